import { createHmac, randomUUID } from 'node:crypto';
import {
  applyFieldRules,
  type CatalogItemInput,
  compareExportOrder,
  customerExportCalls,
  type ExportCheckpoint,
  type ExportCursor,
  type ExportMode,
  type ExportRunResult,
  type FieldDef,
  type FieldRules,
  isAfterCursor,
  resolveFieldRules,
  runExport,
  type SourceSchemas,
} from '@attune/core';
import type { IStoreModuleService, MedusaContainer } from '@medusajs/framework/types';
import { Modules } from '@medusajs/framework/utils';
import { Cron } from 'croner';
import type { ResolvedOptions } from './options.ts';
import { attuneRuntime, graph } from './runtime.ts';
import { amount } from './translate.ts';

/** The source schema of each exported entity: field name → generic type, for field customization. */
export const MEDUSA_SCHEMAS = {
  product: {
    title: { type: 'string' },
    handle: { type: 'uid' },
    subtitle: { type: 'string' },
    description: { type: 'text' },
    status: { type: 'enumeration' },
    thumbnail: { type: 'media' },
    price: { type: 'number' },
    currency: { type: 'string' },
    variants: { type: 'json' },
    categories: { type: 'relation' },
    tags: { type: 'json' },
    collection: { type: 'string' },
    createdAt: { type: 'datetime' },
  },
  customer: {
    email: { type: 'email' },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    phone: { type: 'phone' },
    companyName: { type: 'string' },
    hasAccount: { type: 'boolean' },
    groups: { type: 'relation' },
    createdAt: { type: 'datetime' },
  },
} satisfies SourceSchemas;

export type ExportStream = 'products' | 'customers';

/** Field rules of both streams, checked against the source schemas; a bad rule says where it is. */
export function parseFieldRules(catalog: ResolvedOptions['catalog']): FieldRules {
  return resolveFieldRules({ product: catalog.products.fields, customer: catalog.customers.fields }, MEDUSA_SCHEMAS, { hashKey: catalog.hashKey, label: '@attune/commerce-medusa catalog fields' });
}

interface Row {
  id: string;
  updated_at: string | Date;
  deleted_at?: string | Date | null;
}

interface ProductRow extends Row {
  title?: string | null;
  handle?: string | null;
  subtitle?: string | null;
  description?: string | null;
  status?: string | null;
  thumbnail?: string | null;
  created_at?: string | Date | null;
  variants?: Array<{ id: string; sku?: string | null; title?: string | null; prices?: Array<{ amount: unknown; currency_code: string } | null> | null } | null> | null;
  categories?: Array<{ id: string; name?: string | null; handle?: string | null } | null> | null;
  tags?: Array<{ value?: string | null } | null> | null;
  collection?: { title?: string | null } | null;
}

interface CustomerRow extends Row {
  email?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  phone?: string | null;
  company_name?: string | null;
  has_account?: boolean | null;
  created_at?: string | Date | null;
  groups?: Array<{ id: string; name?: string | null } | null> | null;
}

const PRODUCT_FIELDS = [
  'id', 'title', 'handle', 'subtitle', 'description', 'status', 'thumbnail', 'created_at', 'updated_at', 'deleted_at',
  'variants.id', 'variants.sku', 'variants.title', 'variants.prices.amount', 'variants.prices.currency_code',
  'categories.id', 'categories.name', 'categories.handle', 'tags.value', 'collection.title',
];
const CUSTOMER_FIELDS = ['id', 'email', 'first_name', 'last_name', 'phone', 'company_name', 'has_account', 'created_at', 'updated_at', 'deleted_at', 'groups.id', 'groups.name'];

const iso = (d: string | Date | null | undefined) => new Date(d ?? 0).toISOString();
const present = <T>(xs: Array<T | null> | null | undefined): T[] => (xs ?? []).filter((x): x is T => x !== null);

/**
 * Products to the catalog stream, customers to profiles, through the core's export model:
 * field rules, incremental runs from a checkpoint saved after each acknowledged batch (kept in
 * the store's metadata: Medusa has no key-value store of its own), tombstones for soft-deleted
 * rows, and resume after a killed run.
 */
export function createCatalogExport(container: MedusaContainer) {
  const { options, client } = attuneRuntime(container);
  const { catalog, source } = options;
  const rules = parseFieldRules(catalog);
  const hash = (value: string) => {
    if (!catalog.hashKey) throw new Error('catalog.hashKey is not configured');
    return createHmac('sha256', catalog.hashKey).update(value).digest('hex');
  };
  const fields = (type: keyof typeof MEDUSA_SCHEMAS, record: Record<string, unknown>) =>
    applyFieldRules({ type, record, fieldDefs: MEDUSA_SCHEMAS[type] as Record<string, FieldDef>, rules, hash });

  function productItem(p: ProductRow): CatalogItemInput {
    const updatedAt = iso(p.updated_at);
    if (p.deleted_at) return { id: p.id, type: 'product', updatedAt, deleted: true, fields: [] };
    const variants = present(p.variants).map((v) => {
      const price = present(v.prices)[0];
      return { id: v.id, sku: v.sku ?? null, title: v.title ?? null, price: price ? amount(price.amount) : null, currency: price?.currency_code.toUpperCase() ?? null };
    });
    const prices = variants.map((v) => v.price).filter((x): x is number => x !== null);
    return {
      id: p.id,
      type: 'product',
      updatedAt,
      fields: fields('product', {
        title: p.title ?? null,
        handle: p.handle ?? null,
        subtitle: p.subtitle ?? null,
        description: p.description ?? null,
        status: p.status ?? null,
        thumbnail: p.thumbnail ?? null,
        price: prices.length > 0 ? Math.min(...prices) : null,
        currency: variants[0]?.currency ?? null,
        variants,
        categories: present(p.categories).map((c) => ({ id: c.id, name: c.name ?? null, handle: c.handle ?? null })),
        tags: present(p.tags).map((t) => t.value),
        collection: p.collection?.title ?? null,
        createdAt: iso(p.created_at),
      }),
    };
  }

  function customerItem(c: CustomerRow): CatalogItemInput {
    const updatedAt = iso(c.updated_at);
    if (c.deleted_at) return { id: c.id, type: 'customer', updatedAt, deleted: true, fields: [] };
    return {
      id: c.id,
      type: 'customer',
      updatedAt,
      fields: fields('customer', {
        email: c.email ?? null,
        firstName: c.first_name ?? null,
        lastName: c.last_name ?? null,
        phone: c.phone ?? null,
        companyName: c.company_name ?? null,
        hasAccount: c.has_account ?? false,
        groups: present(c.groups).map((g) => ({ id: g.id, name: g.name ?? null })),
        createdAt: iso(c.created_at),
      }),
    };
  }

  /** Rows changed after the cursor, in (updatedAt, id) order, soft-deleted ones included. */
  async function changed<T extends Row>(entity: string, fieldList: string[], after: ExportCursor | null, limit: number): Promise<T[]> {
    // Rows sharing the cursor's updatedAt are re-read and dropped here, so ties never stall a page.
    const rows = await graph<T>(container, {
      entity,
      fields: fieldList,
      ...(after ? { filters: { updated_at: { $gte: after.updatedAt } } } : {}),
      pagination: { order: { updated_at: 'ASC', id: 'ASC' }, take: limit * 2 },
      withDeleted: true,
    });
    return rows
      .map((r) => ({ row: r, key: { updatedAt: iso(r.updated_at), id: r.id } }))
      .filter((r) => isAfterCursor(r.key, after))
      .sort((a, b) => compareExportOrder(a.key, b.key))
      .slice(0, limit)
      .map((r) => r.row);
  }

  const sources = {
    products: { page: async (after: ExportCursor | null, limit: number) => (await changed<ProductRow>('product', PRODUCT_FIELDS, after, limit)).map(productItem) },
    customers: { page: async (after: ExportCursor | null, limit: number) => (await changed<CustomerRow>('customer', CUSTOMER_FIELDS, after, limit)).map(customerItem) },
  };

  const sinks = {
    products: async (items: CatalogItemInput[], run: { id: string }) => {
      await client.catalog(catalog.products.streamId, { items, run: { id: run.id, source } });
    },
    customers: async (items: CatalogItemInput[]) => {
      await client.track(customerExportCalls(items.map((i) => ({ id: i.id, updatedAt: i.updatedAt, deleted: i.deleted, fields: i.fields ?? [] })), source));
    },
  };

  const STATE_KEY = 'attune_exports';
  function state(streamId: string) {
    const stores = container.resolve<IStoreModuleService>(Modules.STORE);
    const store = async () => {
      const [s] = await stores.listStores({}, { take: 1 });
      if (!s) throw new Error('@attune/commerce-medusa: no store to keep the export checkpoint in');
      return s;
    };
    return {
      async load(): Promise<ExportCheckpoint | null> {
        const s = await store();
        const all = (s.metadata?.[STATE_KEY] ?? {}) as Record<string, ExportCheckpoint>;
        return all[streamId] ?? null;
      },
      async save(checkpoint: ExportCheckpoint): Promise<void> {
        const s = await store();
        const all = { ...((s.metadata?.[STATE_KEY] ?? {}) as Record<string, ExportCheckpoint>), [streamId]: checkpoint };
        await stores.updateStores(s.id, { metadata: { ...(s.metadata ?? {}), [STATE_KEY]: all } });
      },
    };
  }

  return {
    run(stream: ExportStream, mode: ExportMode = 'incremental'): Promise<ExportRunResult> {
      return runExport({
        source: sources[stream],
        sink: sinks[stream],
        state: state(catalog[stream].streamId),
        mode,
        batchSize: catalog.batchSize,
        newRunId: () => `${source}-${stream}-${randomUUID()}`,
      });
    },
    async runAll(mode: ExportMode = 'incremental'): Promise<Partial<Record<ExportStream, ExportRunResult>>> {
      const out: Partial<Record<ExportStream, ExportRunResult>> = {};
      for (const stream of ['products', 'customers'] as const) if (catalog[stream].enabled) out[stream] = await this.run(stream, mode);
      return out;
    },
  };
}

/** Whether the configured schedule fired between `since` and `now` (the job runs every minute and asks). */
export function scheduleDue(schedule: string, timezone: string | undefined, since: Date, now: Date): boolean {
  const next = new Cron(schedule, { paused: true, ...(timezone ? { timezone } : {}) }).nextRun(since);
  return next !== null && next <= now;
}
