/**
 * Connector templates: `{{profile.traits.tier}}`, `{{context.page.url}}` … filled from the
 * decision's scope. Each place a value lands (URL, header, JSON body) has its own encoding, so
 * a value can never change the shape of the request around it.
 */

/** `{{profile.traits.tier}}`, `{{context.locale}}`, `{{profile.id}}` … inside a string. */
export const TEMPLATE_TOKEN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

/** Where a rendered template goes: a URL (percent-encoded), a header value, or a JSON body. */
export type TemplateTarget = 'url' | 'header' | 'json';

/** A template that cannot be filled for this scope; the connector records it as `TEMPLATE`. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Reads `a.b[0].c` (or `a.b.0.c`) from parsed JSON; undefined when absent. */
export function selectPath(root: unknown, path: string): unknown {
  let cur = root;
  for (const seg of segmentsOf(path)) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur as object, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

// Templates and paths come from configuration, so there are few of them: each is parsed once.
// The bound only guards against a host that feeds the runtime an endless stream of definitions.
const MAX_COMPILED = 5000;
const segmentCache = new Map<string, string[]>();

function segmentsOf(path: string): string[] {
  let segs = segmentCache.get(path);
  if (!segs) {
    if (segmentCache.size >= MAX_COMPILED) segmentCache.clear();
    segs = path.replace(/\[(\d+)\]/g, '.$1').split('.');
    segmentCache.set(path, segs);
  }
  return segs;
}

/** A template split into literal text and placeholders (with, for JSON, whether each sits in a string). */
type Part = string | { path: string; inString: boolean };
const partCache = new Map<string, Part[]>();

function partsOf(template: string, target: TemplateTarget): Part[] {
  const cacheKey = `${target === 'json' ? 'j' : 't'}${template}`;
  let parts = partCache.get(cacheKey);
  if (!parts) {
    if (partCache.size >= MAX_COMPILED) partCache.clear();
    parts = target === 'json' ? scanJsonTemplate(template) : splitTemplate(template);
    partCache.set(cacheKey, parts);
  }
  return parts;
}

function splitTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of template.matchAll(TEMPLATE_TOKEN)) {
    if (m.index > last) parts.push(template.slice(last, m.index));
    parts.push({ path: m[1] as string, inString: false });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return parts;
}

/** The placeholders' paths, in order: `['profile.traits.tier', …]`. */
export function templatePaths(template: string): string[] {
  return [...template.matchAll(TEMPLATE_TOKEN)].map((m) => m[1] as string);
}

/**
 * Fills every placeholder; a missing (undefined or null) value throws a TemplateError naming
 * the placeholder, so a request never carries the text "undefined".
 */
export function renderTemplate(template: string, scope: unknown, target: TemplateTarget): string {
  let out = '';
  for (const part of partsOf(template, target)) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const v = lookup(scope, part.path);
    if (target === 'json') out += part.inString ? JSON.stringify(scalarText(v, part.path)).slice(1, -1) : JSON.stringify(v);
    else if (target === 'url') out += urlPart(scalarText(v, part.path), part.path);
    else out += headerPart(scalarText(v, part.path), part.path);
  }
  return out;
}

function lookup(scope: unknown, path: string): unknown {
  const v = selectPath(scope, path);
  if (v === undefined || v === null) throw new TemplateError(`no value for {{${path}}}`);
  return v;
}

function scalarText(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(`{{${path}}} is ${Array.isArray(v) ? 'an array' : 'an object'}; only strings, numbers and booleans fit here`);
}

function urlPart(text: string, path: string): string {
  // "." and ".." survive percent-encoding as dot segments (URL parsers resolve "%2e%2e" too),
  // so such a value could move the request to another path of the host.
  if (text === '.' || text === '..') throw new TemplateError(`{{${path}}} is "${text}", which would change the URL's path`);
  try {
    return encodeURIComponent(text);
  } catch {
    throw new TemplateError(`{{${path}}} contains an unpaired UTF-16 surrogate`);
  }
}

// Visible ASCII, space and tab: what every HTTP stack accepts in a header value.
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

function headerPart(text: string, path: string): string {
  if (!HEADER_VALUE.test(text)) throw new TemplateError(`{{${path}}} is not a valid header value (control or non-ASCII characters)`);
  return text;
}

/**
 * JSON bodies: a placeholder in value position becomes a JSON value (`{"tier": {{profile.traits.tier}}}`
 * → `{"tier": "gold"}`); inside a string literal it becomes escaped text
 * (`{"q": "sku-{{context.sku}}"}` → `{"q": "sku-A\"1"}`). Values cannot break out of their place.
 * This walks the template once, tracking whether each placeholder sits inside a string literal.
 */
function scanJsonTemplate(template: string): Part[] {
  const token = new RegExp(TEMPLATE_TOKEN.source, 'y');
  const parts: Part[] = [];
  let text = '';
  let inString = false;
  let i = 0;
  while (i < template.length) {
    const ch = template[i] as string;
    if (ch === '{' && template[i + 1] === '{') {
      token.lastIndex = i;
      const m = token.exec(template);
      if (m) {
        if (text !== '') parts.push(text);
        text = '';
        parts.push({ path: m[1] as string, inString });
        i = token.lastIndex;
        continue;
      }
    }
    if (inString && ch === '\\') {
      text += template.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (ch === '"') inString = !inString;
    text += ch;
    i++;
  }
  if (text !== '') parts.push(text);
  return parts;
}

/**
 * Checks a JSON body template when a connector is saved: placeholders stand in for values, and
 * the result must be JSON. Returns the problem, or null.
 */
export function jsonTemplateProblem(template: string): string | null {
  const sample = scanJsonTemplate(template)
    .map((p) => (typeof p === 'string' ? p : p.inString ? 'x' : '0'))
    .join('');
  try {
    JSON.parse(sample);
    return null;
  } catch {
    return 'must be JSON once placeholders are filled, e.g. {"sku": {{context.sku}}} or {"q": "sku-{{context.sku}}"}';
  }
}
