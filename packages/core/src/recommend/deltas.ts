import { DAY_MS } from '../conditions/validate.ts';
import type { ProductRef } from './shopping.ts';

/** The UTC day number of an epoch-millisecond time: the bucket of per-day item counts. */
export function dayOf(at: number): number {
  return Math.floor(at / DAY_MS);
}

export type ItemCounter = 'views' | 'carts' | 'purchases';
export type PairKind = 'view' | 'buy';

/** Per-item totals to add, with the attributes the latest event carried (the catalog's win over them). */
export interface ItemDelta {
  id: string;
  category?: string | undefined;
  brand?: string | undefined;
  price?: number | undefined;
  name?: string | undefined;
  views: number;
  carts: number;
  purchases: number;
}

export interface ItemDayDelta {
  id: string;
  day: number;
  views: number;
  carts: number;
  purchases: number;
}

/** A co-occurrence count to add to `a`'s row for `b` (the collector writes both directions). */
export interface PairDelta {
  kind: PairKind;
  a: string;
  b: string;
  n: number;
}

export interface RecommendWrites {
  items: ItemDelta[];
  days: ItemDayDelta[];
  /** One row per direction, summed. */
  pairs: PairDelta[];
}

/** Collects one ingest transaction's recommendation counters, summed per row before they are written. */
export class RecommendDeltas {
  private readonly items = new Map<string, ItemDelta>();
  private readonly days = new Map<string, ItemDayDelta>();
  private readonly pairs = new Map<string, PairDelta>();

  get empty(): boolean {
    return this.items.size === 0;
  }

  /** Counts `by` (default 1; -1 takes back a purchase of a cancelled or returned order) on the item's total and `day`. */
  item(ref: ProductRef, day: number, counter: ItemCounter, by = 1): void {
    const it = this.itemRow(ref);
    it[counter] += by;
    this.dayRow(ref.id, day)[counter] += by;
  }

  /** Adds rows written by another transaction (a queued `RecommendWrites`), in commit order. */
  add(w: RecommendWrites): void {
    for (const i of w.items) {
      const it = this.itemRow(i);
      it.views += i.views;
      it.carts += i.carts;
      it.purchases += i.purchases;
    }
    for (const d of w.days) {
      const row = this.dayRow(d.id, d.day);
      row.views += d.views;
      row.carts += d.carts;
      row.purchases += d.purchases;
    }
    for (const p of w.pairs) this.addPair(p.kind, p.a, p.b, p.n);
  }

  pair(kind: PairKind, a: string, b: string): void {
    if (a === b) return;
    this.addPair(kind, a, b, 1);
    this.addPair(kind, b, a, 1);
  }

  /** The item's row, with the attributes `from` carries (the latest seen wins). */
  private itemRow(from: { id: string; category?: string | undefined; brand?: string | undefined; price?: number | undefined; name?: string | undefined }): ItemDelta {
    let it = this.items.get(from.id);
    if (!it) {
      it = { id: from.id, views: 0, carts: 0, purchases: 0 };
      this.items.set(from.id, it);
    }
    if (from.category !== undefined) it.category = from.category;
    if (from.brand !== undefined) it.brand = from.brand;
    if (from.price !== undefined) it.price = from.price;
    if (from.name !== undefined) it.name = from.name;
    return it;
  }

  private dayRow(id: string, day: number): ItemDayDelta {
    const key = `${day}\u0000${id}`;
    let d = this.days.get(key);
    if (!d) {
      d = { id, day, views: 0, carts: 0, purchases: 0 };
      this.days.set(key, d);
    }
    return d;
  }

  private addPair(kind: PairKind, a: string, b: string, n: number): void {
    const key = `${kind}\u0000${a}\u0000${b}`;
    const p = this.pairs.get(key);
    if (p) p.n += n;
    else this.pairs.set(key, { kind, a, b, n });
  }

  /** Rows in key order, so concurrent writers lock rows in the same order. */
  writes(): RecommendWrites {
    return { items: byKey(this.items), days: byKey(this.days), pairs: byKey(this.pairs) };
  }

  /** Rows in no particular order (what is queued: the fold sorts). */
  rows(): RecommendWrites {
    return { items: [...this.items.values()], days: [...this.days.values()], pairs: [...this.pairs.values()] };
  }
}

/** Values by key in code-unit order (the default sort of strings, faster than a comparator). */
function byKey<T>(m: Map<string, T>): T[] {
  const keys = [...m.keys()].sort();
  const out: T[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = m.get(keys[i] as string) as T;
  return out;
}

/**
 * Ingestion does not write the counters in its own transaction: it queues them, encoded, in one
 * row (`StoreTx.queueRecommendCounts`), and `foldRecommendQueue` adds many transactions' rows at
 * once. Compact arrays, not objects: the row is written on every ingest commit.
 */
type EncodedItem = [string, string | null, string | null, number | null, string | null, number, number, number];
type EncodedDay = [string, number, number, number, number];
type EncodedPair = [PairKind, string, string, number];

export function encodeRecommendWrites(w: RecommendWrites): string {
  const i: EncodedItem[] = w.items.map((x) => [x.id, x.category ?? null, x.brand ?? null, x.price ?? null, x.name ?? null, x.views, x.carts, x.purchases]);
  const d: EncodedDay[] = w.days.map((x) => [x.id, x.day, x.views, x.carts, x.purchases]);
  const p: EncodedPair[] = w.pairs.map((x) => [x.kind, x.a, x.b, x.n]);
  return JSON.stringify({ i, d, p });
}

export function decodeRecommendWrites(text: string): RecommendWrites {
  const raw = JSON.parse(text) as { i?: EncodedItem[]; d?: EncodedDay[]; p?: EncodedPair[] };
  const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
  return {
    items: (raw.i ?? []).map(([id, category, brand, price, name, views, carts, purchases]) => ({
      id,
      category: opt(category),
      brand: opt(brand),
      price: opt(price),
      name: opt(name),
      views,
      carts,
      purchases,
    })),
    days: (raw.d ?? []).map(([id, day, views, carts, purchases]) => ({ id, day, views, carts, purchases })),
    pairs: (raw.p ?? []).map(([kind, a, b, n]) => ({ kind, a, b, n })),
  };
}
