import { describe, expect, it } from 'vitest';
import { connectorSchema } from './schema.ts';
import { jsonTemplateProblem, renderTemplate, selectPath, TemplateError } from './template.ts';

const scope = {
  profile: { id: 'p1', traits: { tier: 'gold', visits: 3, vip: false, tags: ['a'], quote: 'say "hi"\n{}' } },
  context: { locale: 'fr-FR', page: { url: 'https://shop.test/a b?x=1&y=é' }, sku: 'SKU 1/é', dots: '..', dot: '.', lone: '\ud800', crlf: 'a\r\nx-evil: 1' },
};

describe('connector templates', () => {
  it('percent-encodes every value placed in a URL', () => {
    expect(renderTemplate('https://api.test/p/{{context.sku}}?u={{context.page.url}}&n={{profile.traits.visits}}&v={{profile.traits.vip}}', scope, 'url')).toBe(
      'https://api.test/p/SKU%201%2F%C3%A9?u=https%3A%2F%2Fshop.test%2Fa%20b%3Fx%3D1%26y%3D%C3%A9&n=3&v=false',
    );
  });

  it('tolerates spaces inside braces', () => {
    expect(renderTemplate('https://api.test/{{ context.locale }}', scope, 'url')).toBe('https://api.test/fr-FR');
  });

  it.each([
    ['{{context.missing}}', 'no value for {{context.missing}}'],
    ['{{profile.traits.tier.deeper}}', 'no value for {{profile.traits.tier.deeper}}'],
    ['{{profile.traits.tags}}', 'is an array'],
    ['{{context.page}}', 'is an object'],
    ['{{context.dots}}', 'would change the URL'],
    ['{{context.dot}}', 'would change the URL'],
    ['{{context.lone}}', 'unpaired UTF-16 surrogate'],
  ])('refuses %s in a URL rather than sending "undefined" or a changed path', (placeholder, message) => {
    expect(() => renderTemplate(`https://api.test/x/${placeholder}`, scope, 'url')).toThrow(TemplateError);
    expect(() => renderTemplate(`https://api.test/x/${placeholder}`, scope, 'url')).toThrow(message);
  });

  it('treats null as missing', () => {
    expect(() => renderTemplate('{{context.x}}', { context: { x: null } }, 'header')).toThrow('no value for {{context.x}}');
  });

  it('keeps header values on one line of visible ASCII', () => {
    expect(renderTemplate('Bearer {{profile.traits.tier}}', scope, 'header')).toBe('Bearer gold');
    expect(() => renderTemplate('{{context.crlf}}', scope, 'header')).toThrow('not a valid header value');
    expect(() => renderTemplate('{{context.sku}}', scope, 'header')).toThrow('not a valid header value');
  });

  it('places a JSON body value as JSON, and as escaped text inside a string literal', () => {
    const body = renderTemplate(
      '{"tier": {{profile.traits.tier}}, "tags": {{profile.traits.tags}}, "n": {{profile.traits.visits}}, "q": "said: {{profile.traits.quote}} \\"{{context.locale}}\\""}',
      scope,
      'json',
    );
    expect(JSON.parse(body)).toEqual({ tier: 'gold', tags: ['a'], n: 3, q: 'said: say "hi"\n{} "fr-FR"' });
  });

  it('never lets a value break out of its JSON string', () => {
    const hostile = { context: { q: '", "admin": true, "x": "' } };
    expect(JSON.parse(renderTemplate('{"q": "{{context.q}}"}', hostile, 'json'))).toEqual({ q: '", "admin": true, "x": "' });
    expect(JSON.parse(renderTemplate('{"q": {{context.q}}}', hostile, 'json'))).toEqual({ q: '", "admin": true, "x": "' });
  });

  it('refuses an object inside a JSON string, and a missing value anywhere in the body', () => {
    expect(() => renderTemplate('{"q": "{{profile.traits.tags}}"}', scope, 'json')).toThrow('is an array');
    expect(() => renderTemplate('{"q": {{context.nope}}}', scope, 'json')).toThrow('no value for {{context.nope}}');
  });

  it('checks body templates for JSON shape when saved', () => {
    expect(jsonTemplateProblem('{"a": {{context.x}}, "b": "v-{{context.y}}", "c": [{{context.z}}]}')).toBeNull();
    expect(jsonTemplateProblem('{"a": {{context.x}}')).toContain('must be JSON');
    expect(jsonTemplateProblem('a={{context.x}}')).toContain('must be JSON');
  });

  it('selects by dot and bracket paths, own properties only', () => {
    const json = JSON.parse('{"data":{"items":[{"price":9.5},{"price":null}]},"__proto__":{"polluted":1}}');
    expect(selectPath(json, 'data.items[0].price')).toBe(9.5);
    expect(selectPath(json, 'data.items.1.price')).toBeNull();
    expect(selectPath(json, 'data.items[2].price')).toBeUndefined();
    expect(selectPath(json, 'data.toString')).toBeUndefined();
    expect(selectPath(json, 'data.items.length')).toBe(2); // an array's own length: a count
  });
});

describe('connectorSchema', () => {
  const base = { id: 'price', name: 'Price', url: 'https://api.test/p/{{context.sku}}', outputs: { price: 'data.price' } };
  const issuesOf = (over: Record<string, unknown>) => {
    const r = connectorSchema.safeParse({ ...base, ...over });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('fills defaults', () => {
    expect(connectorSchema.parse(base)).toMatchObject({ method: 'GET', timeoutMs: 300, maxResponseBytes: 262_144 });
  });

  it.each([
    [{ url: 'ftp://api.test/x' }, 'url: must be an http:// or https:// URL'],
    [{ url: 'https://{{context.host}}/x' }, 'url: placeholders may fill the path and query, not the host'],
    [{ url: 'https://api.{{context.tenant}}.test/x' }, 'url: placeholders may fill the path and query, not the host'],
    [{ url: 'https://user:pw@api.test/x' }, 'url: must name a host (and optional port), without credentials'],
    [{ url: 'https://api.test/a b' }, 'url: must not contain white space'],
    [{ url: 'https://api.test/{{secrets.key}}' }, 'url: placeholders read {{profile.…}} or {{context.…}}'],
    [{ headers: { Host: 'evil.test' } }, 'headers.Host: is set by the HTTP client and cannot be configured'],
    [{ headers: { 'x a': '1' } }, 'headers.x a: must be a header name'],
    [{ headers: { 'x-a': 'a\r\nx-b: 1' } }, 'headers.x-a: must be visible ASCII (no line breaks)'],
    [{ method: 'POST', body: '{"sku": {{context.sku}}' }, 'body: must be JSON once placeholders are filled'],
    [{ body: '{}' }, 'body: only POST connectors send a body'],
    [{ fallback: { cost: 1 } }, 'fallback.cost: no output "cost"'],
    [{ outputs: { price: 'data..price' } }, 'outputs.price: must be a path such as "data.items[0].price"'],
    [{ timeoutMs: 20_000 }, 'timeoutMs: Too big'],
    [{ id: 'Bad Id' }, 'id: must be 1–64 characters'],
  ])('rejects %j naming the path', (over, expected) => {
    const issues = issuesOf(over);
    expect(issues.some((i) => i.toLowerCase().startsWith(expected.toLowerCase()))).toBe(true);
  });

  it('accepts ports, IPv6 literals, query placeholders and a templated POST body', () => {
    expect(issuesOf({ url: 'http://[::1]:8080/p?sku={{context.sku}}&t={{profile.traits.tier}}#f' })).toEqual([]);
    expect(issuesOf({ method: 'POST', url: 'https://api.test:8443/q', body: '{"sku": {{context.sku}}, "q": "x-{{context.q}}"}' })).toEqual([]);
  });
});
