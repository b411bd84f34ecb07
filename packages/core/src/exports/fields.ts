import { z } from 'zod';
import type { ExportedField } from '../protocol/catalog.ts';

/**
 * Field customization: per content type and per field, include or skip, rename, or transform.
 * One model for every adapter (Strapi, Sitecore, Vendure, Medusa): adapters describe their
 * source schema with generic field types and pass records; the core decides what is exported.
 */
export const FIELD_TRANSFORMS = ['richtext-to-text', 'media-to-url', 'relation-to-ids', 'hash', 'lowercase', 'trim'] as const;
export type FieldTransform = (typeof FIELD_TRANSFORMS)[number];

const STRINGS = ['string', 'text', 'email', 'uid', 'enumeration', 'password', 'phone'];
const NOT_HASHABLE = ['media', 'relation', 'component', 'dynamiczone', 'json', 'blocks', 'richtext'];

/** Which source field types a transform applies to (`null`: any type but those listed as not hashable). */
const TRANSFORM_TYPES: Record<FieldTransform, string[] | null> = {
  'richtext-to-text': ['richtext', 'blocks', 'markdown', ...STRINGS],
  'media-to-url': ['media'],
  'relation-to-ids': ['relation'],
  hash: null,
  lowercase: STRINGS,
  trim: STRINGS,
};

export const fieldRuleSchema = z
  .object({
    include: z.boolean().optional(),
    rename: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,199}$/, 'must start with a letter or "_" and hold only letters, digits, "_", "." or "-"')
      .optional(),
    transform: z.enum(FIELD_TRANSFORMS).optional(),
  })
  .strict();

export const typeRulesSchema = z
  .object({
    /** Fields without a rule: exported as they are (`include`, the default) or left out (`skip`). */
    default: z.enum(['include', 'skip']).optional(),
    fields: z.record(z.string().min(1), fieldRuleSchema).default({}),
  })
  .strict();

export const fieldRulesSchema = z.record(z.string().min(1), typeRulesSchema);

export type FieldRule = z.output<typeof fieldRuleSchema>;
export type TypeRules = z.output<typeof typeRulesSchema>;
export type FieldRules = z.output<typeof fieldRulesSchema>;

/** A source field's definition, as the adapter describes it. */
export interface FieldDef {
  /** Generic type: string, text, richtext, blocks, email, uid, enumeration, number, boolean, date, datetime, json, media, relation, component, dynamiczone… */
  type: string;
}

export type SourceSchemas = Record<string, Record<string, FieldDef>>;

export interface FieldRuleIssue {
  /** Where the problem is: `article.fields.title.transform`. */
  path: string;
  message: string;
}

/**
 * Checks rules against the source schemas: unknown types and fields, transforms that do not
 * apply to a field's type, and two fields exported under one name.
 */
export function validateFieldRules(rules: FieldRules, schemas: SourceSchemas): FieldRuleIssue[] {
  const issues: FieldRuleIssue[] = [];
  for (const [type, typeRules] of Object.entries(rules)) {
    const defs = schemas[type];
    if (!defs) {
      issues.push({ path: type, message: `unknown content type "${type}"; known: ${Object.keys(schemas).sort().join(', ') || '(none)'}` });
      continue;
    }
    for (const [field, rule] of Object.entries(typeRules.fields)) {
      const def = defs[field];
      const at = `${type}.fields.${field}`;
      if (!def) {
        issues.push({ path: at, message: `"${type}" has no field "${field}"; its fields: ${Object.keys(defs).sort().join(', ')}` });
        continue;
      }
      if (rule.transform && !transformApplies(rule.transform, def.type)) {
        issues.push({ path: `${at}.transform`, message: `"${rule.transform}" does not apply to a ${def.type} field` });
      }
    }
    const names = new Map<string, string>();
    for (const field of Object.keys(defs)) {
      const rule = typeRules.fields[field];
      if (!included(rule, typeRules)) continue;
      const name = rule?.rename ?? field;
      const other = names.get(name);
      if (other !== undefined) {
        issues.push({ path: `${type}.fields.${rule?.rename ? field : other}.rename`, message: `"${field}" and "${other}" would both be exported as "${name}"` });
      } else names.set(name, field);
    }
  }
  return issues;
}

export function transformApplies(transform: FieldTransform, type: string): boolean {
  const types = TRANSFORM_TYPES[transform];
  return types === null ? !NOT_HASHABLE.includes(type) : types.includes(type);
}

/** A field with a rule is exported unless the rule says `include: false`; others follow the type's default. */
function included(rule: FieldRule | undefined, typeRules: TypeRules | undefined): boolean {
  if (rule) return rule.include ?? true;
  return (typeRules?.default ?? 'include') === 'include';
}

export interface ApplyFieldRulesInput {
  type: string;
  record: Record<string, unknown>;
  fieldDefs: Record<string, FieldDef>;
  rules?: FieldRules | undefined;
  /** Hashes personal data; the adapter passes a keyed hash (HMAC-SHA256) — the core has no crypto. */
  hash: (value: string) => string;
  /** Prefixed to relative media URLs (`/uploads/a.png`). */
  mediaBaseUrl?: string | undefined;
}

/**
 * The exported fields of one record: each defined field the rules include, renamed and
 * transformed, with its metadata. Fields absent from the record are left out; null stays null.
 */
export function applyFieldRules(input: ApplyFieldRulesInput): ExportedField[] {
  const typeRules = input.rules?.[input.type];
  const out: ExportedField[] = [];
  for (const [field, def] of Object.entries(input.fieldDefs)) {
    const rule = typeRules?.fields[field];
    if (!included(rule, typeRules)) continue;
    if (!Object.hasOwn(input.record, field)) continue;
    const raw = input.record[field];
    const value = rule?.transform && raw !== null && raw !== undefined ? transformValue(rule.transform, raw, input) : raw;
    out.push({ name: rule?.rename ?? field, field, type: def.type, value: value === undefined ? null : value });
  }
  return out;
}

function transformValue(transform: FieldTransform, value: unknown, input: ApplyFieldRulesInput): unknown {
  switch (transform) {
    case 'richtext-to-text':
      return richTextToPlain(value);
    case 'media-to-url':
      return Array.isArray(value) ? value.map((m) => mediaUrl(m, input.mediaBaseUrl)) : mediaUrl(value, input.mediaBaseUrl);
    case 'relation-to-ids':
      return Array.isArray(value) ? value.map(relationId) : relationId(value);
    case 'hash':
      return Array.isArray(value) ? value.map((v) => hashScalar(v, input.hash)) : hashScalar(value, input.hash);
    case 'lowercase':
      return typeof value === 'string' ? value.toLowerCase() : value;
    case 'trim':
      return typeof value === 'string' ? value.trim() : value;
  }
}

function hashScalar(value: unknown, hash: (v: string) => string): unknown {
  if (value === null || value === undefined) return value;
  return hash(typeof value === 'string' ? value.trim().toLowerCase() : JSON.stringify(value));
}

function mediaUrl(media: unknown, base: string | undefined): unknown {
  const url = typeof media === 'string' ? media : isObject(media) && typeof media.url === 'string' ? media.url : null;
  if (url === null) return null;
  if (base && url.startsWith('/')) return base.replace(/\/$/, '') + url;
  return url;
}

function relationId(related: unknown): unknown {
  if (typeof related === 'string' || typeof related === 'number') return related;
  if (!isObject(related)) return null;
  return related.documentId ?? related.id ?? null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * Plain text from HTML, Markdown, or a block tree (Strapi blocks, Slate-like JSON:
 * nodes with `text` or `children`). Block elements become line breaks.
 */
export function richTextToPlain(value: unknown): string {
  if (typeof value === 'string') return htmlToPlain(markdownToPlain(value));
  const lines: string[] = [];
  const walk = (node: unknown, line: string[]): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, line);
      return;
    }
    if (!isObject(node)) return;
    if (typeof node.text === 'string') line.push(node.text);
    if (Array.isArray(node.children)) {
      const inline = node.type === 'link' || node.type === 'text' || node.type === undefined;
      if (inline) walk(node.children, line);
      else {
        const own: string[] = [];
        walk(node.children, own);
        const text = own.join('');
        if (text !== '') lines.push(text);
      }
    }
  };
  const top: string[] = [];
  walk(value, top);
  if (top.length > 0) lines.unshift(top.join(''));
  return lines.join('\n').trim();
}

/** Markdown's marks removed, its text kept: headings, emphasis, links, images, code, lists, quotes, rules. */
function markdownToPlain(md: string): string {
  return md
    .replace(/^```[^\n]*\n([\s\S]*?)^```[ \t]*$/gm, '$1')
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/^[ \t]{0,3}#{1,6}[ \t]+/gm, '')
    .replace(/^[ \t]{0,3}>[ \t]?/gm, '')
    .replace(/^[ \t]*(?:[-*+]|\d+[.)])[ \t]+/gm, '')
    .replace(/^[ \t]{0,3}(?:-{3,}|\*{3,}|_{3,})[ \t]*$/gm, '')
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '$1')
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1$2')
    .replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g, '$1$2');
}

function htmlToPlain(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|h[1-6]|li|tr|blockquote|section|article)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x?[0-9a-f]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
        return Number.isFinite(code) ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{2,}/g, '\n')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
