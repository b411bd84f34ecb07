import { bump as add } from '../profiles/computed.ts';
import type { StoredEvent } from '../store.ts';
import { dayOf, type RecommendDeltas } from './deltas.ts';

/**
 * A profile's shopping memory, kept in `computed.shopping` at ingestion: what it viewed and
 * bought lately (the co-occurrence window, recently viewed, exclude-purchased) and weighted
 * category, brand and price affinities (recommended for you, personalized ranking). Bounded,
 * so a profile's document stays small whatever its history.
 */
export interface ShoppingState {
  /** Distinct viewed items, most recent first: [id, time]. */
  views: Array<[string, number]>;
  /** Distinct bought items, most recent first: [id, time]. */
  bought: Array<[string, number]>;
  /** Weighted interest per category and brand (view 1, cart 3, purchase 5). */
  categories: Record<string, number>;
  brands: Record<string, number>;
  /** Prices seen, as count, sum and sum of squares of ln(price). */
  price: [number, number, number];
}

export const RECENT_VIEWS = 20;
export const BOUGHT_KEPT = 200;
/** Items a new view or purchase is paired with: the latest this many, within the pairing window. */
export const PAIR_WINDOW_ITEMS = 10;
export const PAIR_WINDOW_MS = 7 * 86_400_000;
const ORDER_ITEMS_PAIRED = 20;
export const WEIGHTS = { view: 1, cart: 3, purchase: 5 } as const;

export function emptyShopping(): ShoppingState {
  return { views: [], bought: [], categories: {}, brands: {}, price: [0, 0, 0] };
}

export interface ProductRef {
  id: string;
  category?: string;
  brand?: string;
  price?: number;
  name?: string;
}

/** The product an event's properties (or one of its `products`) describe: product_id, else sku. */
export function productRef(p: Record<string, unknown>): ProductRef | null {
  const raw = p.product_id ?? p.sku ?? p.id;
  const id = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
  if (typeof id !== 'string' || id === '' || id.length > 200) return null;
  const ref: ProductRef = { id };
  if (typeof p.category === 'string' && p.category !== '' && p.category.length <= 200) ref.category = p.category;
  if (typeof p.brand === 'string' && p.brand !== '' && p.brand.length <= 200) ref.brand = p.brand;
  if (typeof p.price === 'number' && Number.isFinite(p.price) && p.price >= 0) ref.price = p.price;
  if (typeof p.name === 'string' && p.name !== '' && p.name.length <= 500) ref.name = p.name;
  return ref;
}

const ORDER_EVENTS = new Set(['Order Completed', 'Order Placed']);

/**
 * Folds one event into the profile's shopping state and the store deltas (item counts per day,
 * co-occurrence pairs). O(window) per event: no history is read. `countsAsNewOrder` is false
 * for the second report of an order (storefront and back office), which must not count twice;
 * `countsAsNewCancellation` likewise for a cancellation.
 *
 * A cancelled order, and the items of a refund that lists them (unless `returned: false`, a
 * refund of money only, as a cancellation's refund is), take their purchases back, on the day of
 * the cancellation or refund: what sells is counted net of what comes back. Co-occurrence and
 * the profile's own memory of what it bought are kept (it had the item in hand).
 */
export function recordShopping(
  computed: { shopping?: ShoppingState },
  event: StoredEvent,
  countsAsNewOrder: boolean,
  deltas: RecommendDeltas,
  countsAsNewCancellation = false,
): void {
  const m = event.message;
  if (m.type !== 'track') return;
  const props = (m.properties ?? {}) as Record<string, unknown>;
  const at = event.timestamp;
  const day = dayOf(at);
  switch (m.event) {
    case 'Product Viewed': {
      const ref = productRef(props);
      if (!ref) return;
      const s = (computed.shopping ??= emptyShopping());
      deltas.item(ref, day, 'views');
      learn(s, ref, WEIGHTS.view);
      if (remember(s.views, ref.id, at, RECENT_VIEWS)) {
        for (const other of pairable(s.views, ref.id, at)) deltas.pair('view', ref.id, other);
      }
      return;
    }
    case 'Product Added': {
      const ref = productRef(props);
      if (!ref) return;
      const s = (computed.shopping ??= emptyShopping());
      deltas.item(ref, day, 'carts');
      learn(s, ref, WEIGHTS.cart);
      return;
    }
    case 'Order Cancelled':
      if (countsAsNewCancellation) for (const ref of distinctProducts(props.products)) deltas.item(ref, day, 'purchases', -1);
      return;
    case 'Order Refunded':
      if (props.returned !== false) for (const ref of distinctProducts(props.products)) deltas.item(ref, day, 'purchases', -1);
      return;
    default:
      if (!ORDER_EVENTS.has(m.event) || !countsAsNewOrder) return;
  }
  const refs = distinctProducts(props.products);
  const seen = new Set(refs.map((r) => r.id));
  if (refs.length === 0) return;
  const s = (computed.shopping ??= emptyShopping());
  // Bought before this order (within the window): paired with each of this order's items.
  const earlier = pairable(s.bought, '', at).filter((id) => !seen.has(id));
  const paired = refs.slice(0, ORDER_ITEMS_PAIRED);
  for (const [i, ref] of paired.entries()) {
    for (let j = i + 1; j < paired.length; j++) deltas.pair('buy', ref.id, (paired[j] as ProductRef).id);
    for (const other of earlier) deltas.pair('buy', ref.id, other);
  }
  for (const ref of refs) {
    deltas.item(ref, day, 'purchases');
    learn(s, ref, WEIGHTS.purchase);
    remember(s.bought, ref.id, at, BOUGHT_KEPT);
  }
}

/** The products of an order event's `products`, once per id, in order (none when absent or malformed). */
function distinctProducts(products: unknown): ProductRef[] {
  if (!Array.isArray(products)) return [];
  const refs: ProductRef[] = [];
  const seen = new Set<string>();
  for (const p of products) {
    if (p === null || typeof p !== 'object') continue;
    const ref = productRef(p as Record<string, unknown>);
    if (!ref || seen.has(ref.id)) continue;
    seen.add(ref.id);
    refs.push(ref);
  }
  return refs;
}

/** Merges the shopping state of a profile merged away into the survivor's. */
export function mergeShopping(into: { shopping?: ShoppingState }, from: { shopping?: ShoppingState }): void {
  if (!from.shopping) return;
  if (!into.shopping) {
    into.shopping = from.shopping;
    return;
  }
  const a = into.shopping;
  const b = from.shopping;
  a.views = mergeRecent(a.views, b.views, RECENT_VIEWS);
  a.bought = mergeRecent(a.bought, b.bought, BOUGHT_KEPT);
  for (const [k, w] of Object.entries(b.categories)) add(a.categories, k, w);
  for (const [k, w] of Object.entries(b.brands)) add(a.brands, k, w);
  a.price = [a.price[0] + b.price[0], a.price[1] + b.price[1], a.price[2] + b.price[2]];
}

/** Reads a shopping state out of a decision snapshot's `computed` (null when absent or malformed). */
export function shoppingOf(computed: Record<string, unknown> | undefined): ShoppingState | null {
  const s = computed?.shopping as ShoppingState | undefined;
  if (!s || typeof s !== 'object' || !Array.isArray(s.views) || !Array.isArray(s.bought)) return null;
  return s;
}

function learn(s: ShoppingState, ref: ProductRef, weight: number): void {
  if (ref.category) add(s.categories, ref.category, weight);
  if (ref.brand) add(s.brands, ref.brand, weight);
  if (ref.price !== undefined && ref.price > 0) {
    const l = Math.log(ref.price);
    s.price = [s.price[0] + 1, s.price[1] + l, s.price[2] + l * l];
  }
}

/** Moves `id` to the front of a recent list; true when it was not in the list. */
function remember(list: Array<[string, number]>, id: string, at: number, cap: number): boolean {
  const i = list.findIndex((e) => e[0] === id);
  if (i >= 0) {
    const [entry] = list.splice(i, 1);
    list.unshift([id, Math.max((entry as [string, number])[1], at)]);
    return false;
  }
  list.unshift([id, at]);
  if (list.length > cap) list.length = cap;
  return true;
}

/** The items an item seen at `at` is paired with: the latest few other items within the window. */
function pairable(list: Array<[string, number]>, id: string, at: number): string[] {
  const out: string[] = [];
  for (const [other, t] of list) {
    if (out.length >= PAIR_WINDOW_ITEMS) break;
    if (other === id || Math.abs(at - t) > PAIR_WINDOW_MS) continue;
    out.push(other);
  }
  return out;
}

function mergeRecent(a: Array<[string, number]>, b: Array<[string, number]>, cap: number): Array<[string, number]> {
  const latest = new Map<string, number>();
  for (const [id, t] of [...a, ...b]) latest.set(id, Math.max(latest.get(id) ?? t, t));
  return [...latest.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, cap);
}
