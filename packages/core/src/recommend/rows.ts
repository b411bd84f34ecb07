import type { RecItem, RecMetric } from '../store.ts';
import { WEIGHTS } from './shopping.ts';

/** What each metric weighs views, carts and purchases with (`activity` is the affinity weighting). */
export const REC_METRIC_WEIGHTS: Record<RecMetric, { views: number; carts: number; purchases: number }> = {
  views: { views: 1, carts: 0, purchases: 0 },
  carts: { views: 0, carts: 1, purchases: 0 },
  purchases: { views: 0, carts: 0, purchases: 1 },
  activity: { views: WEIGHTS.view, carts: WEIGHTS.cart, purchases: WEIGHTS.purchase },
};

/** A SQL expression of a metric over `views`, `carts` and `purchases` columns (of `alias` when given). Both stores use it. */
export function recMetricSql(metric: RecMetric, alias = ''): string {
  const w = REC_METRIC_WEIGHTS[metric];
  const col = (c: string) => (alias === '' ? c : `${alias}.${c}`);
  const terms: string[] = [];
  for (const c of ['views', 'carts', 'purchases'] as const) if (w[c] !== 0) terms.push(w[c] === 1 ? col(c) : `${w[c]} * ${col(c)}`);
  return `(${terms.join(' + ')})`;
}

/**
 * A `rec_items` row as both stores select it; `parse` turns the attributes column into an
 * object (JSON text on SQLite, jsonb on PostgreSQL).
 */
export function recItemFromRow(row: Record<string, unknown>, parse: (column: unknown) => unknown): RecItem {
  const attributes = row.attributes === null || row.attributes === undefined ? {} : parse(row.attributes);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: row.id as string,
    category: (row.category as string | null) ?? null,
    brand: (row.brand as string | null) ?? null,
    price: num(row.price),
    name: (row.name as string | null) ?? null,
    inStock: row.in_stock === null || row.in_stock === undefined ? null : Boolean(row.in_stock),
    attributes: attributes !== null && typeof attributes === 'object' ? (attributes as Record<string, unknown>) : {},
    fromCatalog: Boolean(row.from_catalog),
    deleted: Boolean(row.deleted),
    views: Number(row.views ?? 0),
    carts: Number(row.carts ?? 0),
    // Net of cancellations and returns, which may take back a purchase counted before the item was tracked.
    purchases: Math.max(0, Number(row.purchases ?? 0)),
  };
}
