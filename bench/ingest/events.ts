/**
 * Synthetic storefront traffic for the ingest benchmark: a pool of visitors (so most calls
 * update an existing profile), a mix of page views, product events, carts, orders and
 * identifies, each call with a unique messageId. A batch holds the next calls of several
 * active sessions (`sessionsPerBatch`), as a server-side library flushing the traffic of
 * concurrent visitors sends it; `sessionsPerBatch = batch size` gives one call per visitor.
 */
const CATEGORIES = ['Shoes', 'Outerwear', 'Bags', 'Accessories', 'Electronics', 'Home'];
const BRANDS = ['Acme', 'Northwind', 'Globex', 'Initech', 'Umbrella'];
const UAS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
];

export function createTraffic(options: { visitors: number; runId: string; seed?: number; sessionsPerBatch?: number }) {
  let state = options.seed ?? 1;
  const rand = () => {
    // xorshift32: deterministic and fast enough not to show in the profile.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  let n = 0;
  const base = Date.now() - 7 * 24 * 3600_000;
  function call(visitor?: number): Record<string, unknown> {
    n++;
    const v = visitor ?? Math.floor(rand() * options.visitors);
    const anonymousId = `anon-${v}`;
    const timestamp = new Date(base + n * 50).toISOString();
    const messageId = `${options.runId}-${n}`;
    const context = { userAgent: UAS[v % UAS.length], page: { path: '/p', url: 'https://shop.test/p' }, ip: '10.0.0.1' };
    const product = {
      product_id: `p-${Math.floor(rand() * 500)}`,
      category: CATEGORIES[v % CATEGORIES.length],
      brand: BRANDS[Math.floor(rand() * BRANDS.length)],
      price: 19.99,
      quantity: 1,
    };
    const r = rand();
    if (r < 0.35) return { type: 'page', anonymousId, messageId, timestamp, context, name: 'Product', properties: { path: '/p', url: 'https://shop.test/p', title: 'Shop' } };
    if (r < 0.7) return { type: 'track', anonymousId, messageId, timestamp, context, event: 'Product Viewed', properties: product };
    if (r < 0.85) return { type: 'track', anonymousId, messageId, timestamp, context, event: 'Product Added', properties: { ...product, cart_id: `c-${v}` } };
    if (r < 0.92) return { type: 'track', anonymousId, messageId, timestamp, context, event: 'Products Searched', properties: { query: 'boots', results: 12 } };
    if (r < 0.97) {
      return { type: 'identify', anonymousId, userId: `user-${v}`, messageId, timestamp, context, traits: { email: `user${v}@example.com`, plan: 'member' } };
    }
    return {
      type: 'track', anonymousId, messageId, timestamp, context, event: 'Order Completed',
      properties: { order_id: `${options.runId}-o-${n}`, total: 59.97, currency: 'EUR', products: [product, product, product] },
    };
  }
  return {
    call,
    batch(size: number): { batch: Record<string, unknown>[] } {
      const sessions = Math.max(1, Math.min(size, options.sessionsPerBatch ?? 10));
      const visitorsInBatch = Array.from({ length: sessions }, () => Math.floor(rand() * options.visitors));
      const batch: Record<string, unknown>[] = [];
      for (let i = 0; i < size; i++) batch.push(call(visitorsInBatch[i % sessions]));
      return { batch };
    },
  };
}
