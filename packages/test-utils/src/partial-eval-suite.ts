import { type Condition, createEngine, evaluateAudiences } from '@attune/core';
import { describe, expect, it } from 'vitest';
import type { StoreContext } from './store-port-suite.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 3, 1, 8);

/** Audiences of every kind of input: event counters, traits, computed traits, context, references. */
const AUDIENCES: Array<{ id: string; condition: Condition }> = [
  { id: 'viewed-shoes-2h', condition: { did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'Shoes' }], window: { last: { hours: 2 } } } } },
  { id: 'viewed-3x', condition: { did: { event: 'Product Viewed', count: { op: 'at_least', value: 3 }, window: { last: { hours: 6 } } } } },
  { id: 'carted-no-order', condition: { all: [{ did: { event: 'Product Added', window: { last: { hours: 1 } } } }, { did_not: { event: 'Order Completed', window: { last: { hours: 1 } } } }] } },
  { id: 'spent-100', condition: { have: { aggregate: { fn: 'sum', event: 'Order Completed', property: 'total', window: { last: { days: 1 } } }, op: 'gte', value: 100 } } },
  { id: 'top-bags', condition: { have: { top: { event: 'Product Viewed', property: 'category', window: { last: { hours: 12 } } }, op: 'eq', value: 'Bags' } } },
  { id: 'gold', condition: { have: { trait: 'traits.tier', op: 'eq', value: 'gold' } } },
  { id: 'sessions-2', condition: { have: { trait: 'computed.sessions', op: 'gte', value: 2 } } },
  { id: 'mobile', condition: { context: { field: 'device.type', op: 'eq', value: 'mobile' } } },
  { id: 'from-fr', condition: { context: { field: 'geo.country', op: 'eq', value: 'FR' } } },
  { id: 'gold-spender', condition: { all: [{ in_audience: 'gold' }, { in_audience: 'spent-100' }] } },
  { id: 'not-viewed-shoes', condition: { not: { in_audience: 'viewed-shoes-2h' } } },
];

/**
 * Ingestion evaluates only the audiences whose inputs an event changed. This checks the
 * shortcut against the definition: after random traffic, every profile's stored membership
 * equals a full evaluation of every audience at that moment.
 */
export function describePartialEvaluation(ctx: StoreContext): void {
  describe('audience evaluation at ingestion', () => {
    it('keeps exactly the membership a full evaluation gives, over random traffic and time', async () => {
      const clock = { now: T0 };
      const engine = createEngine({ store: ctx.store, clock: { now: () => clock.now, defer: (f) => setImmediate(f) } });
      await engine.audiences.createGroup({ id: 'pe', name: 'Partial evaluation' });
      for (const a of AUDIENCES) await engine.audiences.createAudience({ ...a, groupId: 'pe', name: a.id });
      await engine.audiences.recompute();

      let seed = 7;
      const rand = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 4294967296;
      };
      const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)] as T;
      const visitors = Array.from({ length: 12 }, (_, i) => `pe-v${i}`);
      const categories = ['Shoes', 'Bags', 'Hats'];
      const compiled = () => engine.audiences.compiled();
      let compared = 0;
      // Between scheduled checks, the stored answer must be what evaluating everything gives.
      const check = async () => {
        for (const v of visitors) {
          const id = await engine.findProfileId('anonymousId', v);
          const profile = id ? await ctx.store.getProfile(id) : null;
          if (!profile || (profile.nextCheckAt != null && profile.nextCheckAt <= clock.now)) continue;
          const full = evaluateAudiences(profile, compiled(), clock.now);
          expect({ v, at: clock.now, audiences: Object.keys(profile.audiences).sort() }).toEqual({ v, at: clock.now, audiences: Object.keys(full.members).sort() });
          compared++;
        }
      };
      for (let step = 0; step < 400; step++) {
        clock.now += Math.floor(rand() * 20 * 60_000);
        const anonymousId = pick(visitors);
        const context = { device: { type: rand() < 0.5 ? 'mobile' : 'desktop' }, location: { country: pick(['FR', 'DE']) }, page: { url: 'https://shop.example.com/p' } };
        const r = rand();
        const timestamp = new Date(clock.now).toISOString();
        if (r < 0.45) await engine.ingestCall({ anonymousId, timestamp, context, event: 'Product Viewed', properties: { product_id: 'p', category: pick(categories) } }, 'track');
        else if (r < 0.6) await engine.ingestCall({ anonymousId, timestamp, context, event: 'Product Added', properties: { product_id: 'p' } }, 'track');
        else if (r < 0.7) await engine.ingestCall({ anonymousId, timestamp, event: 'Order Completed', properties: { order_id: `o${step}`, total: Math.floor(rand() * 120), products: [] } }, 'track');
        else if (r < 0.8) await engine.ingestCall({ anonymousId, timestamp, traits: { tier: pick(['gold', 'silver']) } }, 'identify');
        else if (r < 0.9) await engine.ingestCall({ anonymousId, timestamp, context, name: 'Home', properties: { path: '/' } }, 'page');
        else await engine.audiences.runDueChecks();
        if (step % 10 === 9) await check();
      }
      expect(compared).toBeGreaterThan(100);
    });
  });
}
