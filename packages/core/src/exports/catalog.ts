import { AttuneError } from '../errors.ts';
import type { Clock } from '../ports.ts';
import { catalogBatchSchema, streamIdSchema } from '../protocol/catalog.ts';
import { zodIssues } from '../protocol/parse.ts';
import { syncCatalogProducts } from '../recommend/catalog.ts';
import type { CatalogApplyResult, CatalogItemKey, Store, StoredCatalogItem } from '../store.ts';

export interface CatalogPage {
  items: StoredCatalogItem[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

/** The catalog as the API and the decision/recommendation code see it: validated, paged. */
export interface CatalogService {
  /** Validates a batch (`{ items, run? }`) and applies it to a stream. */
  apply(streamId: string, raw: unknown): Promise<CatalogApplyResult>;
  get(streamId: string, key: CatalogItemKey): Promise<StoredCatalogItem | null>;
  list(streamId: string, options: { type?: string | undefined; after?: string | undefined; limit?: number | undefined; includeDeleted?: boolean | undefined }): Promise<CatalogPage>;
  streams(): ReturnType<Store['catalog']['streams']>;
}

export function createCatalogService(options: { store: Store; clock: Clock }): CatalogService {
  const { store, clock } = options;
  return {
    async apply(streamId, raw) {
      const stream = checkStream(streamId);
      const parsed = catalogBatchSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = zodIssues(parsed.error);
        throw new AttuneError('VALIDATION', `invalid catalog batch: ${issues.map((i) => `${i.path}: ${i.message}`).slice(0, 5).join('; ')}`, { issues });
      }
      const result = await store.catalog.apply(stream, parsed.data.items, clock.now());
      // Products also feed recommendations (stock, category, brand, price, similarity attributes).
      await syncCatalogProducts(store, stream, parsed.data.items);
      return result;
    },
    async get(streamId, key) {
      return store.catalog.get(checkStream(streamId), key);
    },
    async list(streamId, opts) {
      const stream = checkStream(streamId);
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new AttuneError('VALIDATION', 'limit must be a whole number from 1 to 1000', { issues: [{ path: 'limit', message: 'must be 1–1000' }] });
      }
      const after = opts.after === undefined ? undefined : decodeCatalogCursor(opts.after);
      const items = await store.catalog.list(stream, { type: opts.type, after, limit: limit + 1, includeDeleted: opts.includeDeleted });
      const page = items.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page, next: items.length > limit && last ? encodeCatalogCursor(last) : null };
    },
    streams: () => store.catalog.streams(),
  };
}

function checkStream(streamId: string): string {
  const parsed = streamIdSchema.safeParse(streamId);
  if (!parsed.success) {
    throw new AttuneError('VALIDATION', `stream id "${streamId}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`, {
      issues: [{ path: 'streamId', message: parsed.error.issues[0]?.message ?? 'is invalid' }],
    });
  }
  return parsed.data;
}

/** A page cursor: the last item's (type, id, locale), as JSON. */
export function encodeCatalogCursor(item: CatalogItemKey): string {
  return JSON.stringify([item.type, item.id, item.locale ?? '']);
}

export function decodeCatalogCursor(cursor: string): CatalogItemKey {
  try {
    const v = JSON.parse(cursor) as unknown;
    if (Array.isArray(v) && v.length === 3 && v.every((p) => typeof p === 'string')) {
      return { type: v[0] as string, id: v[1] as string, locale: v[2] as string };
    }
  } catch {
    // falls through to the error below
  }
  throw new AttuneError('VALIDATION', 'after is not a cursor from a previous page', { issues: [{ path: 'after', message: 'is not a cursor from a previous page' }] });
}
