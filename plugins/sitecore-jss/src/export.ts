/**
 * Content export: Sitecore items, read from Layout Service JSON (the route and its components'
 * datasources, variants included) or from Experience Edge GraphQL results, go to Attune's catalog
 * through the core's export model — field rules (include, skip, rename, transform) applied by
 * `applyFieldRules`, batches sent and checkpointed by `runExport`.
 */
import { createHmac } from 'node:crypto';
import {
  applyFieldRules,
  type CatalogItemInput,
  compareExportOrder,
  type ExportCheckpoint,
  type ExportRunResult,
  type FieldDef,
  type FieldRules,
  isAfterCursor,
  runExport,
  type SourceSchemas,
  validateFieldRules,
} from '@attune/core';
import type { ComponentRendering, HtmlElementRendering, LayoutServiceData, PlaceholdersData } from '@sitecore-jss/sitecore-jss/layout.js';
import { normalizeSitecoreId } from './variants.ts';

/** One Sitecore item in the shape the export reads: generic field types, plain values. */
export interface SitecoreItem {
  /** 32 lower-case hex digits (normalizeSitecoreId). */
  id: string;
  /** Template name (Edge, route) or component name (a datasource read from a layout). */
  type: string;
  language?: string;
  /** ISO-8601. */
  updatedAt: string;
  deleted?: boolean;
  fields: Record<string, { type: string; value: unknown }>;
}

/** Experience Edge's field `__typename`s, as generic field types. */
const EDGE_TYPES: Record<string, string> = {
  TextField: 'string',
  RichTextField: 'richtext',
  ImageField: 'media',
  LinkField: 'json',
  MultilistField: 'relation',
  LookupField: 'relation',
  CheckboxField: 'boolean',
  NumberField: 'number',
  IntegerField: 'number',
  DateField: 'datetime',
};

/**
 * A Layout Service / Edge field (`{ value }`, an image, a link, one or several items) as a
 * generic type and a plain value: media `{ url, alt }`, relations `{ id }` (normalized ids).
 */
export function sitecoreField(raw: unknown, typename?: string): { type: string; value: unknown } {
  const isItem = (v: unknown): v is { id: string } => typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';
  const ref = (v: { id: string; name?: unknown; url?: unknown }) => ({ id: normalizeSitecoreId(v.id), ...(typeof v.name === 'string' ? { name: v.name } : {}), ...(typeof v.url === 'string' ? { url: v.url } : {}) });
  if (Array.isArray(raw)) return { type: 'relation', value: raw.filter(isItem).map(ref) };
  if (raw === null || typeof raw !== 'object') return { type: typeof raw === 'number' ? 'number' : typeof raw === 'boolean' ? 'boolean' : 'string', value: raw ?? null };
  if (!('value' in raw) && isItem(raw)) return { type: 'relation', value: ref(raw) };
  const value = (raw as { value?: unknown }).value;
  const known = typename ? EDGE_TYPES[typename] : undefined;
  if (value !== null && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.src === 'string' || known === 'media') return { type: 'media', value: { url: v.src ?? null, ...(typeof v.alt === 'string' ? { alt: v.alt } : {}) } };
    return { type: known ?? 'json', value };
  }
  if (known) return { type: known, value: value ?? null };
  if (typeof value === 'boolean') return { type: 'boolean', value };
  if (typeof value === 'number') return { type: 'number', value };
  if (typeof value === 'string' && /<\/?[a-z][\s\S]*>/i.test(value)) return { type: 'richtext', value };
  return { type: 'string', value: value ?? null };
}

function fieldsOf(fields: Record<string, unknown> | undefined): SitecoreItem['fields'] {
  const out: SitecoreItem['fields'] = {};
  for (const [name, raw] of Object.entries(fields ?? {})) out[name] = sitecoreField(raw);
  return out;
}

/**
 * The items a layout shows: the route item and every component's datasource item (default and
 * personalization variants, nested placeholders too), once each. Layouts carry no modification
 * time: `updatedAt` is when this layout was published or fetched.
 */
export function itemsFromLayout(layout: LayoutServiceData, options: { updatedAt: string }): SitecoreItem[] {
  const route = layout.sitecore?.route;
  if (!route) return [];
  if (!route.itemId) throw new Error(`layout of route "${route.name}" has no itemId`);
  if (!Number.isFinite(Date.parse(options.updatedAt))) throw new Error(`itemsFromLayout: updatedAt "${options.updatedAt}" is not an ISO-8601 date-time`);
  const language = route.itemLanguage ?? layout.sitecore.context?.language;
  const items = new Map<string, SitecoreItem>();
  const add = (id: string, type: string, fields: Record<string, unknown> | undefined) => {
    const key = normalizeSitecoreId(id);
    if (!items.has(key)) items.set(key, { id: key, type, ...(language ? { language } : {}), updatedAt: options.updatedAt, fields: fieldsOf(fields) });
  };
  add(route.itemId, route.templateName ?? 'Route', route.fields as Record<string, unknown> | undefined);
  const walk = (placeholders: PlaceholdersData | undefined) => {
    for (const components of Object.values(placeholders ?? {})) {
      for (const r of components as Array<ComponentRendering | HtmlElementRendering>) {
        const c = r as ComponentRendering & { experiences?: Record<string, ComponentRendering> };
        const renderings = [c, ...Object.values(c.experiences ?? {})];
        for (const x of renderings) {
          if (x?.dataSource && x.componentName) add(x.dataSource, x.componentName, x.fields as Record<string, unknown> | undefined);
          walk(x?.placeholders);
        }
      }
    }
  };
  walk(route.placeholders);
  return [...items.values()];
}

/** An item as Experience Edge's GraphQL returns it (`item(...)` or `search(...).results[]`). */
export interface EdgeItem {
  id: string;
  name?: string;
  path?: string;
  language?: { name: string };
  template?: { name: string };
  /** `updated: field(name: "__Updated") { value }`: Sitecore's `yyyyMMddTHHmmssZ`. */
  updated?: { value: string } | null;
  fields?: Array<{ name: string; __typename?: string; jsonValue?: unknown; value?: unknown }>;
}

/** Sitecore's compact date (`20261115T093000Z`) or ISO-8601, as ISO-8601. */
export function sitecoreDate(value: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(value);
  const iso = m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : value;
  if (!Number.isFinite(Date.parse(iso))) throw new Error(`"${value}" is not a Sitecore date (yyyyMMddTHHmmssZ) or ISO-8601`);
  return new Date(iso).toISOString();
}

/**
 * Items from an Experience Edge GraphQL result: `{ data: { item } }`, `{ data: { search: { results } } }`,
 * or those objects without `data`. Fields come from `fields { name __typename jsonValue }`.
 */
export function itemsFromEdge(result: unknown): SitecoreItem[] {
  const root = (result as { data?: unknown })?.data ?? result;
  const r = root as { item?: EdgeItem | null; search?: { results?: EdgeItem[] } };
  const list = r.search?.results ?? (r.item ? [r.item] : r.item === null ? [] : undefined);
  if (!list) throw new Error('itemsFromEdge: expected an Experience Edge result with "item" or "search.results"');
  return list.map((e, i) => {
    if (typeof e.id !== 'string') throw new Error(`itemsFromEdge: results[${i}] has no id`);
    if (!e.updated?.value) throw new Error(`itemsFromEdge: item ${e.id} has no updated value; query updated: field(name: "__Updated") { value }`);
    const fields: SitecoreItem['fields'] = {};
    for (const f of e.fields ?? []) fields[f.name] = sitecoreField(f.jsonValue ?? { value: f.value }, f.__typename);
    return {
      id: normalizeSitecoreId(e.id),
      type: e.template?.name ?? 'Item',
      ...(e.language?.name ? { language: e.language.name } : {}),
      updatedAt: sitecoreDate(e.updated.value),
      fields,
    };
  });
}

/** The source schema the items describe, per type: for validating field rules before a run. */
export function sitecoreSchemas(items: readonly SitecoreItem[]): SourceSchemas {
  const schemas: SourceSchemas = {};
  for (const item of items) {
    const defs = (schemas[item.type] ??= {});
    for (const [name, f] of Object.entries(item.fields)) defs[name] ??= { type: f.type };
  }
  return schemas;
}

/** An item as a catalog item, its fields through the rules. */
export function toCatalogItem(item: SitecoreItem, options: { rules?: FieldRules | undefined; hash: (value: string) => string; mediaBaseUrl?: string }): CatalogItemInput {
  const fieldDefs: Record<string, FieldDef> = {};
  const record: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(item.fields)) {
    fieldDefs[name] = { type: f.type };
    record[name] = f.value;
  }
  return {
    id: item.id,
    type: item.type,
    ...(item.language ? { locale: item.language } : {}),
    updatedAt: item.updatedAt,
    ...(item.deleted ? { deleted: true } : {}),
    fields: item.deleted ? [] : applyFieldRules({ type: item.type, record, fieldDefs, rules: options.rules, hash: options.hash, mediaBaseUrl: options.mediaBaseUrl }),
  };
}

export interface SitecoreExportOptions {
  /** The items to export (from layouts and/or Edge results); read once per run. */
  items: () => Promise<SitecoreItem[]> | SitecoreItem[];
  apiHost: string;
  /** Attune's secret key (the catalog API is an admin API). */
  secretKey: string;
  streamId: string;
  rules?: FieldRules;
  /** Key of the HMAC-SHA256 that the `hash` transform uses. */
  hashKey?: string;
  mediaBaseUrl?: string;
  state: { load(): Promise<ExportCheckpoint | null>; save(checkpoint: ExportCheckpoint): Promise<void> };
  mode?: 'full' | 'incremental';
  batchSize?: number;
  fetch?: typeof fetch;
  signal?: { readonly aborted: boolean };
}

/**
 * Exports Sitecore items to `/v1/catalog/:streamId`: field rules checked against the items'
 * schema first (a bad rule stops the run, naming the rule), then items in (updatedAt, id) order,
 * only those changed since the last acknowledged one in incremental mode.
 */
export async function exportSitecoreContent(options: SitecoreExportOptions): Promise<ExportRunResult> {
  const items = await options.items();
  if (options.rules) {
    const issues = validateFieldRules(options.rules, sitecoreSchemas(items));
    if (issues.length > 0) throw new Error(`invalid field rules: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
  const hashKey = options.hashKey;
  const hash = (value: string) => {
    if (!hashKey) throw new Error('a field rule hashes values: give hashKey');
    return createHmac('sha256', hashKey).update(value).digest('hex');
  };
  // One catalog key per (type, id, locale): a datasource several layouts share is sent once.
  const byKey = new Map<string, SitecoreItem>();
  for (const item of items) {
    const key = `${item.type}\u0000${item.id}\u0000${item.language ?? ''}`;
    const had = byKey.get(key);
    if (!had || compareExportOrder(had, item) < 0) byKey.set(key, item);
  }
  const ordered = [...byKey.values()].map((i) => ({ ...i, id: catalogId(i) })).sort(compareExportOrder);
  const f = options.fetch ?? fetch;
  const url = `${options.apiHost.replace(/\/$/, '')}/v1/catalog/${encodeURIComponent(options.streamId)}`;
  return runExport({
    source: {
      async page(after, limit) {
        return ordered
          .filter((i) => isAfterCursor(i, after))
          .slice(0, limit)
          .map((i) => toCatalogItem(i, { rules: options.rules, hash, ...(options.mediaBaseUrl ? { mediaBaseUrl: options.mediaBaseUrl } : {}) }));
      },
    },
    sink: async (batch, run) => {
      const items = batch.map((i) => ({ ...i, id: i.id.split('@')[0] as string }));
      const res = await f(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items, run: { id: run.id, source: 'sitecore-jss' } }),
      });
      if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
    },
    state: options.state,
    mode: options.mode ?? 'incremental',
    batchSize: options.batchSize ?? 200,
    newRunId: () => `sitecore-${Date.now().toString(36)}`,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * The cursor orders by (updatedAt, id): one item in several languages needs distinct cursor
 * ids, so the language rides along after "@" (ids are hex) and is cut off before sending.
 */
function catalogId(item: SitecoreItem): string {
  return item.language ? `${item.id}@${item.language}` : item.id;
}
