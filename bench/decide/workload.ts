/**
 * The decide benchmark's configuration: 200 experiences over 5 slots and 50 audiences, as a
 * mid-size retail site would run them, plus the visitors who ask.
 */

export const SLOTS = ['hero', 'banner', 'promo', 'recommendations', 'footer'];
const CATEGORIES = ['shoes', 'bags', 'coats', 'shirts', 'hats', 'watches', 'jewelry', 'sports', 'home', 'beauty'];
const COUNTRIES = ['US', 'FR', 'DE', 'GB', 'ES', 'IT', 'NL', 'SE'];

export function audiences(): Array<{ id: string; condition: unknown }> {
  const out: Array<{ id: string; condition: unknown }> = [];
  for (const tier of ['gold', 'silver', 'bronze']) out.push({ id: `tier-${tier}`, condition: { have: { trait: 'traits.tier', op: 'eq', value: tier } } });
  for (const c of CATEGORIES) {
    out.push({ id: `viewed-${c}`, condition: { did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: c }], window: { last: { days: 30 } } } } });
    out.push({
      id: `prospect-${c}`,
      condition: {
        all: [
          { did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: c }], count: { op: 'at_least', value: 2 }, window: { last: { days: 30 } } } },
          { did_not: { event: 'Order Completed', window: { last: { days: 30 } } } },
        ],
      },
    });
  }
  for (const country of COUNTRIES) out.push({ id: `from-${country.toLowerCase()}`, condition: { have: { trait: 'traits.country', op: 'eq', value: country } } });
  out.push({ id: 'big-spenders', condition: { have: { aggregate: { fn: 'sum', event: 'Order Completed', property: 'revenue', window: { last: { days: 365 } } }, op: 'gte', value: 500 } } });
  out.push({ id: 'cart-abandoners', condition: { all: [{ did: { event: 'Product Added', window: { last: { days: 1 } } } }, { did_not: { event: 'Order Completed', window: { last: { days: 1 } } } }] } });
  for (let i = out.length; i < 50; i++) out.push({ id: `age-band-${i}`, condition: { have: { trait: 'traits.age', op: 'gte', value: 18 + (i % 40) } } });
  return out.slice(0, 50);
}

export function decisionConfig(): Record<string, unknown[]> {
  const auds = audiences().map((a) => a.id);
  const offers = Array.from({ length: 20 }, (_, i) => ({
    id: `offer-${i}`,
    name: `Offer ${i}`,
    content: { text: `Offer ${i}`, code: `SAVE${i}` },
    priority: i % 3,
    tags: [CATEGORIES[i % CATEGORIES.length] as string],
    caps: { perDay: 5 },
    score: { base: i / 10, traits: [{ path: 'traits.age', weight: 0.01 }], affinity: { category: CATEGORIES[i % CATEGORIES.length], weight: 2 } },
    ...(i % 4 === 0 ? { eligibility: { in_audience: auds[i % auds.length] } } : {}),
  }));
  const experiences: unknown[] = [];
  const experiments: unknown[] = [];
  for (let i = 0; i < 200; i++) {
    // Each page type gets experiences on several slots.
    const slot = SLOTS[(Math.floor(i / 50) + i) % SLOTS.length] as string;
    const category = CATEGORIES[i % CATEGORIES.length] as string;
    const kind = Math.floor(i / 10) % 5;
    const pages = kind === 0 ? [`/${category}/**`, `/sale/${category}/*`] : kind === 1 ? [`/products/${category}-*`] : kind === 2 ? ['/', '/home'] : kind === 3 ? [{ regex: `^/(en|fr|de)/${category}(/.*)?$` }] : [`/landing/${i}`];
    const targeting: Record<string, unknown> = { pages };
    if (i % 3 === 0) targeting.audiences = [auds[i % auds.length], auds[(i * 7) % auds.length]];
    if (i % 7 === 0) targeting.condition = { any: [{ context: { field: 'geo.country', op: 'in', value: ['US', 'GB'] } }, { have: { trait: 'traits.tier', op: 'eq', value: 'gold' } }] };
    const content = (v: string) =>
      slot === 'promo' ? { offers: { tags: [category], limit: 2 } } : { content: { title: `${slot} ${i} ${v}`, image: `/img/${category}/${i}-${v}.jpg`, cta: 'Shop now' } };
    const keys = i % 10 === 0 ? ['control', 'b', 'c'] : i % 4 === 0 ? ['control', 'b'] : ['default'];
    experiences.push({ id: `exp-${i}`, name: `Experience ${i}`, priority: (i * 37) % 100, targeting, variants: keys.map((k) => ({ key: k, slots: { [slot]: content(k) } })) });
    if (keys.length > 1) {
      experiments.push({ id: `test-${i}`, name: `Test ${i}`, experienceId: `exp-${i}`, traffic: 80, goals: [{ id: 'purchase', event: 'Order Completed', valueProperty: 'revenue' }] });
    }
  }
  return { offers, experiences, experiments };
}

/** The pages visitors ask about: a mix that hits patterns, regexes and misses. */
export function pages(): string[] {
  const out: string[] = ['/', '/home'];
  for (const c of CATEGORIES) out.push(`/${c}/new`, `/products/${c}-123`, `/fr/${c}/sale`, `/sale/${c}/x`);
  for (let i = 0; i < 20; i++) out.push(`/landing/${i * 5 + 4}`, `/blog/post-${i}`);
  return out;
}

export function visitorTraits(i: number): Record<string, unknown> {
  return { tier: ['gold', 'silver', 'bronze', 'none'][i % 4], country: COUNTRIES[i % COUNTRIES.length], age: 18 + (i % 60), email: `visitor${i}@example.com` };
}

export function visitorEvents(i: number, runId: string): unknown[] {
  const events: unknown[] = [];
  for (let k = 0; k < 4; k++) {
    const category = CATEGORIES[(i + k) % CATEGORIES.length];
    events.push({ type: 'track', event: 'Product Viewed', anonymousId: `${runId}-v${i}`, properties: { product_id: `p-${i}-${k}`, category, price: 20 + k } });
  }
  if (i % 5 === 0) events.push({ type: 'track', event: 'Order Completed', anonymousId: `${runId}-v${i}`, properties: { order_id: `${runId}-o${i}`, revenue: 120 + (i % 500) } });
  return events;
}
