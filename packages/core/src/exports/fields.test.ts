import { describe, expect, it } from 'vitest';
import { applyFieldRules, fieldRulesSchema, richTextToPlain, validateFieldRules } from './fields.ts';

const ARTICLE = {
  title: { type: 'string' },
  body: { type: 'richtext' },
  summary: { type: 'blocks' },
  cover: { type: 'media' },
  gallery: { type: 'media' },
  author: { type: 'relation' },
  tags: { type: 'relation' },
  authorEmail: { type: 'email' },
  views: { type: 'integer' },
};
const hash = (v: string) => `h(${v})`;

describe('applyFieldRules', () => {
  const record = {
    title: 'Hello',
    body: '<p>Fast &amp; <b>fresh</b></p><p>Line&nbsp;two<br>three</p>',
    summary: [
      { type: 'paragraph', children: [{ type: 'text', text: 'Short ' }, { type: 'link', url: '/x', children: [{ type: 'text', text: 'intro' }] }] },
      { type: 'list', format: 'unordered', children: [{ type: 'list-item', children: [{ type: 'text', text: 'one' }] }, { type: 'list-item', children: [{ type: 'text', text: 'two' }] }] },
    ],
    cover: { id: 3, url: '/uploads/cover.png', mime: 'image/png' },
    gallery: [{ url: 'https://cdn.example.com/a.jpg' }, { url: '/uploads/b.jpg' }],
    author: { id: 7, documentId: 'doc-7', name: 'Ada' },
    tags: [{ id: 1, documentId: 't1' }, { id: 2 }],
    authorEmail: ' Ada@Example.com ',
    views: 42,
    internal: 'not a defined field',
  };

  it('exports every defined field with its metadata when there are no rules', () => {
    const out = applyFieldRules({ type: 'article', record, fieldDefs: ARTICLE, hash });
    expect(out.map((f) => f.name)).toEqual(Object.keys(ARTICLE));
    expect(out.find((f) => f.name === 'views')).toEqual({ name: 'views', field: 'views', type: 'integer', value: 42 });
  });

  it('includes, skips, renames and transforms per field', () => {
    const rules = fieldRulesSchema.parse({
      article: {
        default: 'skip',
        fields: {
          title: { rename: 'headline' },
          body: { transform: 'richtext-to-text' },
          summary: { transform: 'richtext-to-text', rename: 'teaser' },
          cover: { transform: 'media-to-url' },
          gallery: { transform: 'media-to-url' },
          author: { transform: 'relation-to-ids' },
          tags: { transform: 'relation-to-ids' },
          authorEmail: { transform: 'hash', rename: 'author_email_hash' },
          views: { include: false },
        },
      },
    });
    const out = applyFieldRules({ type: 'article', record, fieldDefs: ARTICLE, rules, hash, mediaBaseUrl: 'https://cms.example.com/' });
    expect(out).toEqual([
      { name: 'headline', field: 'title', type: 'string', value: 'Hello' },
      { name: 'body', field: 'body', type: 'richtext', value: 'Fast & fresh\nLine two\nthree' },
      { name: 'teaser', field: 'summary', type: 'blocks', value: 'Short intro\none\ntwo' },
      { name: 'cover', field: 'cover', type: 'media', value: 'https://cms.example.com/uploads/cover.png' },
      { name: 'gallery', field: 'gallery', type: 'media', value: ['https://cdn.example.com/a.jpg', 'https://cms.example.com/uploads/b.jpg'] },
      { name: 'author', field: 'author', type: 'relation', value: 'doc-7' },
      { name: 'tags', field: 'tags', type: 'relation', value: ['t1', 2] },
      { name: 'author_email_hash', field: 'authorEmail', type: 'email', value: 'h(ada@example.com)' },
    ]);
  });

  it('keeps null as null and leaves out fields the record does not have', () => {
    const out = applyFieldRules({ type: 'article', record: { title: null, cover: null }, fieldDefs: ARTICLE, rules: { article: { fields: { cover: { transform: 'media-to-url' } } } }, hash });
    expect(out).toEqual([
      { name: 'title', field: 'title', type: 'string', value: null },
      { name: 'cover', field: 'cover', type: 'media', value: null },
    ]);
  });
});

describe('validateFieldRules', () => {
  it('names the offending node: unknown type or field, a transform that does not apply, a name collision', () => {
    const rules = fieldRulesSchema.parse({
      article: { fields: { title: { transform: 'media-to-url' }, nope: {}, body: { rename: 'title' }, views: { transform: 'hash' } } },
      page: { fields: {} },
    });
    expect(validateFieldRules(rules, { article: ARTICLE, product: { sku: { type: 'string' } } })).toEqual([
      { path: 'article.fields.title.transform', message: '"media-to-url" does not apply to a string field' },
      { path: 'article.fields.nope', message: expect.stringContaining('"article" has no field "nope"') },
      { path: 'article.fields.body.rename', message: '"body" and "title" would both be exported as "title"' },
      { path: 'page', message: 'unknown content type "page"; known: article, product' },
    ]);
  });

  it('accepts rules that fit the schema', () => {
    const rules = fieldRulesSchema.parse({ article: { default: 'skip', fields: { title: { include: true, rename: 'name' }, cover: { transform: 'media-to-url' } } } });
    expect(validateFieldRules(rules, { article: ARTICLE })).toEqual([]);
  });

  it('rejects a malformed rule at parse time with its path', () => {
    const r = fieldRulesSchema.safeParse({ article: { fields: { title: { transform: 'uppercase', rename: '1bad' } } } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['article.fields.title.rename', 'article.fields.title.transform']);
  });
});

describe('richTextToPlain', () => {
  it('turns Markdown into its text: headings, emphasis, links, images, code, lists, quotes', () => {
    const md = '# Trail shoes\n\nSome **bold**, _italic_ and ~~old~~ text with [a link](https://x.example) and `code`.\n\n- one\n* two\n1. three\n\n> quoted\n\n---\n![a shoe](/uploads/s.png) snake_case_name stays';
    expect(richTextToPlain(md)).toBe('Trail shoes\nSome bold, italic and old text with a link and code.\none\ntwo\nthree\nquoted\na shoe snake_case_name stays');
  });

  it('turns HTML entities and block tags into plain lines, dropping scripts', () => {
    expect(richTextToPlain('<h1>Title</h1><script>alert(1)</script><p>a &lt; b &#233;t&#xE9;</p>')).toBe('Title\na < b été');
  });
});
