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

  item(ref: ProductRef, day: number, counter: ItemCounter): void {
    let it = this.items.get(ref.id);
    if (!it) {
      it = { id: ref.id, views: 0, carts: 0, purchases: 0 };
      this.items.set(ref.id, it);
    }
    if (ref.category !== undefined) it.category = ref.category;
    if (ref.brand !== undefined) it.brand = ref.brand;
    if (ref.price !== undefined) it.price = ref.price;
    if (ref.name !== undefined) it.name = ref.name;
    it[counter] += 1;
    const key = `${day}\u0000${ref.id}`;
    let d = this.days.get(key);
    if (!d) {
      d = { id: ref.id, day, views: 0, carts: 0, purchases: 0 };
      this.days.set(key, d);
    }
    d[counter] += 1;
  }

  pair(kind: PairKind, a: string, b: string): void {
    if (a === b) return;
    this.addPair(kind, a, b);
    this.addPair(kind, b, a);
  }

  private addPair(kind: PairKind, a: string, b: string): void {
    const key = `${kind}\u0000${a}\u0000${b}`;
    const p = this.pairs.get(key);
    if (p) p.n += 1;
    else this.pairs.set(key, { kind, a, b, n: 1 });
  }

  /** Rows in key order, so concurrent writers lock rows in the same order. */
  writes(): RecommendWrites {
    const byKey = <T>(m: Map<string, T>) => [...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map((e) => e[1]);
    return { items: byKey(this.items), days: byKey(this.days), pairs: byKey(this.pairs) };
  }
}
