import { z } from 'zod';
import { LIMITS } from './limits.ts';

/**
 * The catalog: content, products and other items that CMS and commerce adapters export to
 * Attune, per stream (one stream per data source). Every exported value keeps its metadata:
 * the item's id, the source field's definition name and type, and the value.
 */
export const exportedFieldSchema = z
  .object({
    /** The name the value is exported under (after a rename). */
    name: z.string().min(1).max(200),
    /** The source field's definition name. */
    field: z.string().min(1).max(200),
    /** The source field's type ('string', 'richtext', 'media', 'relation', 'number', …). */
    type: z.string().min(1).max(100),
    value: z.unknown(),
  })
  .strict();

export type ExportedField = z.output<typeof exportedFieldSchema>;

const isoDate = z.string().refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO-8601 date-time');

export const catalogItemSchema = z
  .object({
    id: z.string().min(1).max(LIMITS.maxIdLength),
    /** The content type or entity: 'article', 'product', 'page'… */
    type: z.string().min(1).max(200),
    locale: z.string().min(1).max(35).optional(),
    /** When the item last changed at its source: an older update never overwrites a newer one. */
    updatedAt: isoDate,
    /** A tombstone: the item was deleted at its source. */
    deleted: z.boolean().optional(),
    fields: z.array(exportedFieldSchema).max(1000).default([]),
  })
  .strict()
  .superRefine((item, ctx) => {
    const seen = new Set<string>();
    item.fields.forEach((f, i) => {
      if (seen.has(f.name)) ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `"${f.name}" is exported twice` });
      seen.add(f.name);
    });
  });

export type CatalogItem = z.output<typeof catalogItemSchema>;
export type CatalogItemInput = z.input<typeof catalogItemSchema>;

/** Most items in one catalog request. */
export const MAX_CATALOG_BATCH = 1000;

export const catalogBatchSchema = z
  .object({
    items: z.array(catalogItemSchema).min(1).max(MAX_CATALOG_BATCH),
    /** The export run that sent the batch, for logs. */
    run: z.object({ id: z.string().min(1).max(200), source: z.string().min(1).max(200).optional() }).strict().optional(),
  })
  .strict();

export type CatalogBatch = z.output<typeof catalogBatchSchema>;

export const streamIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit');

/** Where an item lives: a stream, a type, an id and a locale ('' when the item has none). */
export function catalogKey(item: { type: string; id: string; locale?: string | undefined }): string {
  return `${item.type}\u0000${item.id}\u0000${item.locale ?? ''}`;
}
