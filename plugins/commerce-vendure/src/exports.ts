import { createHmac, randomUUID } from 'node:crypto';
import {
  type AttuneClient,
  applyFieldRules,
  type CatalogItemInput,
  customerExportCalls,
  type ExportCheckpoint,
  type ExportCursor,
  type ExportMode,
  type ExportRunResult,
  type FieldDef,
  type FieldRules,
  fromMinorUnits,
  resolveFieldRules,
  runExport,
  type SourceSchemas,
} from '@attune/core';
import { Customer, type EventBus, Product, ProductVariant, ProductVariantEvent, ProductVariantPriceEvent, type RequestContext, type TransactionalConnection } from '@vendure/core';
import { In, type SelectQueryBuilder } from 'typeorm';
import { AttuneExportCursor } from './entities.ts';
import type { ResolvedOptions } from './options.ts';

/** The source schema of each exported entity: field name → generic field type (for field customization). */
export const VENDURE_SCHEMAS = {
  product: {
    name: { type: 'string' },
    slug: { type: 'uid' },
    description: { type: 'richtext' },
    enabled: { type: 'boolean' },
    sku: { type: 'string' },
    price: { type: 'number' },
    currency: { type: 'string' },
    variants: { type: 'json' },
    facets: { type: 'relation' },
    featuredAsset: { type: 'media' },
    createdAt: { type: 'datetime' },
  },
  customer: {
    email: { type: 'email' },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    phoneNumber: { type: 'phone' },
    title: { type: 'string' },
    groups: { type: 'relation' },
    verified: { type: 'boolean' },
    createdAt: { type: 'datetime' },
  },
} satisfies SourceSchemas;

export type ExportStream = 'products' | 'customers';

/** Field rules of both streams, checked against the source schemas; a bad rule says where it is. */
export function parseFieldRules(catalog: ResolvedOptions['catalog']): FieldRules {
  return resolveFieldRules({ product: catalog.products.fields, customer: catalog.customers.fields }, VENDURE_SCHEMAS, { hashKey: catalog.hashKey, label: 'AttunePlugin catalog fields' });
}

/**
 * A product's exported record includes its variants' SKUs, names, prices and enabled state, but
 * Vendure saves a variant or price change on the variant's rows only: the product's `updatedAt`
 * stays, and an incremental export would never send the new price. These blocking handlers
 * (inside the transaction that made the change) move the product's `updatedAt` forward, so the
 * next incremental run picks it up.
 */
export function registerCatalogTouches(eventBus: EventBus, connection: TransactionalConnection): void {
  async function touch(ctx: RequestContext, productIds: Array<Product['id']>): Promise<void> {
    const ids = [...new Set(productIds.map(String))];
    if (ids.length > 0) await connection.getRepository(ctx, Product).update({ id: In(ids) }, { updatedAt: new Date() });
  }
  eventBus.registerBlockingEventHandler({
    event: ProductVariantEvent,
    id: 'attune-catalog-variant-touch',
    handler: (event) => touch(event.ctx, event.variants.map((v) => v.productId).filter((id) => id != null)),
  });
  eventBus.registerBlockingEventHandler({
    event: ProductVariantPriceEvent,
    id: 'attune-catalog-price-touch',
    handler: async (event) => {
      // A price row names its variant through a relation that is not always loaded (a deleted
      // row has no id left either): the variants are found by whichever the event carries.
      const variantIds = event.entity.map((p) => p.variant?.id).filter((id) => id != null);
      const priceIds = event.entity.map((p) => p.id).filter((id) => id != null);
      const where = [...(variantIds.length > 0 ? [{ id: In(variantIds) }] : []), ...(priceIds.length > 0 ? [{ productVariantPrices: { id: In(priceIds) } }] : [])];
      if (where.length === 0) return;
      const variants = await connection.getRepository(event.ctx, ProductVariant).find({ where, select: ['id', 'productId'], withDeleted: true });
      await touch(event.ctx, variants.map((v) => v.productId));
    },
  });
}

/** Rows changed after the cursor, in (updatedAt, id) order; soft-deleted rows included (they become tombstones). */
function changedAfter<T extends { id: unknown; updatedAt: Date }>(qb: SelectQueryBuilder<T>, alias: string, after: ExportCursor | null, limit: number) {
  qb.withDeleted();
  if (after) {
    const updatedAt = new Date(after.updatedAt);
    const id = /^\d+$/.test(after.id) ? Number(after.id) : after.id;
    qb.where(`(${alias}.updatedAt > :updatedAt OR (${alias}.updatedAt = :updatedAt AND ${alias}.id > :id))`, { updatedAt, id });
  }
  return qb.orderBy(`${alias}.updatedAt`, 'ASC').addOrderBy(`${alias}.id`, 'ASC').take(limit).getMany();
}

function iso(d: Date | string | null | undefined): string {
  return d ? new Date(d).toISOString() : new Date(0).toISOString();
}

interface Translated {
  languageCode: string;
  name?: string;
}

function pickTranslation<T extends Translated>(translations: T[] | undefined, language: string | undefined): T | undefined {
  return translations?.find((t) => t.languageCode === language) ?? translations?.[0];
}

export interface CatalogExportDeps {
  connection: TransactionalConnection;
  client: AttuneClient;
  options: ResolvedOptions;
  rules: FieldRules;
  /** The channel's default language (product names and descriptions are exported in it). */
  language?: string;
  /** Base URL of asset previews (relative asset paths are prefixed). */
  assetBaseUrl?: string;
}

/**
 * Products go to the catalog stream, customers to profiles (identify calls), both through
 * the core's export model: field rules, incremental runs from a saved cursor, tombstones for
 * soft-deleted rows, and a checkpoint after every acknowledged batch so a killed run resumes.
 */
export function createCatalogExport(deps: CatalogExportDeps) {
  const { connection, client, options, rules } = deps;
  const { catalog, source } = options;
  const hash = (value: string) => {
    if (!catalog.hashKey) throw new Error('catalog.hashKey is not configured');
    return createHmac('sha256', catalog.hashKey).update(value).digest('hex');
  };
  const fields = (type: keyof typeof VENDURE_SCHEMAS, record: Record<string, unknown>) =>
    applyFieldRules({ type, record, fieldDefs: VENDURE_SCHEMAS[type] as Record<string, FieldDef>, rules, hash, mediaBaseUrl: deps.assetBaseUrl });

  function productItem(p: Product): CatalogItemInput {
    // Soft deletion saves the row, so updatedAt is the deletion time too and the cursor order holds.
    const updatedAt = iso(p.updatedAt);
    const t = pickTranslation(p.translations as unknown as Array<Translated & { slug: string; description: string }>, deps.language);
    const locale = t ? { locale: t.languageCode } : {};
    // The tombstone has the item's key (type, id, locale), so it deletes what was exported.
    if (p.deletedAt) return { id: String(p.id), type: 'product', ...locale, updatedAt, deleted: true, fields: [] };
    const variants = (p.variants ?? [])
      .filter((v) => !v.deletedAt)
      .map((v) => {
        const price = v.productVariantPrices?.[0];
        return {
          id: String(v.id),
          sku: v.sku,
          name: pickTranslation(v.translations as unknown as Translated[], deps.language)?.name ?? null,
          price: price ? fromMinorUnits(price.price, price.currencyCode) : null,
          currency: price?.currencyCode ?? null,
          enabled: v.enabled,
        };
      });
    const prices = variants.map((v) => v.price).filter((x): x is number => x !== null);
    const record: Record<string, unknown> = {
      name: t?.name ?? null,
      slug: t?.slug ?? null,
      description: t?.description ?? null,
      enabled: p.enabled,
      sku: variants[0]?.sku ?? null,
      price: prices.length > 0 ? Math.min(...prices) : null,
      currency: variants[0]?.currency ?? null,
      variants,
      facets: (p.facetValues ?? []).map((fv) => ({ id: String(fv.id), code: fv.code, name: pickTranslation(fv.translations as unknown as Translated[], deps.language)?.name ?? fv.code })),
      featuredAsset: p.featuredAsset ? { id: String(p.featuredAsset.id), url: p.featuredAsset.preview || p.featuredAsset.source } : null,
      createdAt: iso(p.createdAt),
    };
    return { id: String(p.id), type: 'product', ...locale, updatedAt, fields: fields('product', record) };
  }

  function customerItem(c: Customer): CatalogItemInput {
    const updatedAt = iso(c.updatedAt);
    if (c.deletedAt) return { id: String(c.id), type: 'customer', updatedAt, deleted: true, fields: [] };
    const record: Record<string, unknown> = {
      email: c.emailAddress || null,
      firstName: c.firstName || null,
      lastName: c.lastName || null,
      phoneNumber: c.phoneNumber || null,
      title: c.title || null,
      groups: (c.groups ?? []).map((g) => ({ id: String(g.id), name: g.name })),
      verified: c.user ? c.user.verified : false,
      createdAt: iso(c.createdAt),
    };
    return { id: String(c.id), type: 'customer', updatedAt, fields: fields('customer', record) };
  }

  const sources = {
    products: {
      page: async (after: ExportCursor | null, limit: number) => {
        const qb = connection.rawConnection
          .getRepository(Product)
          .createQueryBuilder('product')
          .leftJoinAndSelect('product.translations', 'translation')
          .leftJoinAndSelect('product.variants', 'variant')
          .leftJoinAndSelect('variant.translations', 'variantTranslation')
          .leftJoinAndSelect('variant.productVariantPrices', 'variantPrice')
          .leftJoinAndSelect('product.facetValues', 'facetValue')
          .leftJoinAndSelect('facetValue.translations', 'facetValueTranslation')
          .leftJoinAndSelect('product.featuredAsset', 'featuredAsset');
        return (await changedAfter(qb, 'product', after, limit)).map(productItem);
      },
    },
    customers: {
      page: async (after: ExportCursor | null, limit: number) => {
        const qb = connection.rawConnection
          .getRepository(Customer)
          .createQueryBuilder('customer')
          .leftJoinAndSelect('customer.groups', 'customerGroup')
          .leftJoinAndSelect('customer.user', 'user');
        return (await changedAfter(qb, 'customer', after, limit)).map(customerItem);
      },
    },
  };

  const sinks = {
    products: async (items: CatalogItemInput[], run: { id: string }) => {
      await client.catalog(catalog.products.streamId, { items, run: { id: run.id, source } });
    },
    customers: async (items: CatalogItemInput[]) => {
      await client.track(customerExportCalls(items.map((i) => ({ id: i.id, updatedAt: i.updatedAt, deleted: i.deleted, fields: i.fields ?? [] })), source));
    },
  };

  function state(streamId: string) {
    const repo = () => connection.rawConnection.getRepository(AttuneExportCursor);
    return {
      async load(): Promise<ExportCheckpoint | null> {
        const row = await repo().findOne({ where: { stream: streamId } });
        return row ? (JSON.parse(row.cursor) as ExportCheckpoint) : null;
      },
      async save(checkpoint: ExportCheckpoint): Promise<void> {
        await repo().save({ stream: streamId, cursor: JSON.stringify(checkpoint), savedAt: Date.now() });
      },
    };
  }

  const running = new Map<ExportStream, Promise<ExportRunResult>>();

  return {
    /** Runs one stream's export; a run already in progress in this process is joined, not doubled. */
    run(stream: ExportStream, mode: ExportMode = 'incremental', onProgress?: (p: { runId: string; items: number; batches: number }) => void): Promise<ExportRunResult> {
      const current = running.get(stream);
      if (current) return current;
      const config = catalog[stream];
      const promise = runExport({
        source: sources[stream],
        sink: sinks[stream],
        state: state(config.streamId),
        mode,
        batchSize: catalog.batchSize,
        newRunId: () => `${source}-${stream}-${randomUUID()}`,
        ...(onProgress ? { onProgress } : {}),
      }).finally(() => running.delete(stream));
      running.set(stream, promise);
      return promise;
    },
    /** Every enabled stream, one after the other. */
    async runAll(mode: ExportMode = 'incremental'): Promise<Partial<Record<ExportStream, ExportRunResult>>> {
      const out: Partial<Record<ExportStream, ExportRunResult>> = {};
      for (const stream of ['products', 'customers'] as const) {
        if (catalog[stream].enabled) out[stream] = await this.run(stream, mode);
      }
      return out;
    },
  };
}

export type CatalogExport = ReturnType<typeof createCatalogExport>;
