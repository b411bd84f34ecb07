import { type Engine, isAttuneError } from '@attune/core';

/**
 * The demo shop's audiences, drawn from the product documents: loyalty tiers, cross-channel
 * shoppers, prospects for a new product line, cart abandoners, upgrade candidates and high
 * lifetime value. Created before the demo traffic, so membership is kept as events arrive.
 */
export const DEMO_SEGMENT_GROUPS = [
  { id: 'loyalty', name: 'Loyalty tiers', description: 'Members by lifetime value' },
  { id: 'lifecycle', name: 'Lifecycle', description: 'Where shoppers are in their journey' },
] as const;

const ltv = (op: 'gte' | 'lt', value: number) => ({ have: { trait: 'computed.lifetimeValue', op, value } });
const channel = (name: string) => ({ have: { trait: 'computed.channels', op: 'contains', value: name } });

export const DEMO_AUDIENCES = [
  { id: 'gold', groupId: 'loyalty', name: 'Gold members', condition: ltv('gte', 1000) },
  { id: 'silver', groupId: 'loyalty', name: 'Silver members', condition: { all: [ltv('gte', 400), ltv('lt', 1000)] } },
  { id: 'bronze', groupId: 'loyalty', name: 'Bronze members', condition: { all: [{ have: { trait: 'computed.orderCount', op: 'gte', value: 1 } }, ltv('lt', 400)] } },
  {
    id: 'cross-channel',
    groupId: 'lifecycle',
    name: 'Cross-channel shoppers (two or more channels)',
    condition: { any: [{ all: [channel('web'), channel('app')] }, { all: [channel('web'), channel('store')] }, { all: [channel('app'), channel('store')] }] },
  },
  {
    id: 'outerwear-prospects',
    groupId: 'lifecycle',
    name: 'Prospects for the new outerwear line',
    condition: {
      all: [
        { did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'Outerwear' }], window: { last: { days: 30 } } } },
        { did_not: { event: 'Order Completed', where: [{ property: 'products.category', op: 'eq', value: 'Outerwear' }] } },
      ],
    },
  },
  {
    id: 'cart-abandoners',
    groupId: 'lifecycle',
    name: 'Cart abandoners (added to cart this week, then an hour without cart activity or an order)',
    condition: {
      all: [
        { did: { event: 'Product Added', window: { last: { days: 7 } } } },
        // Entry is timed: the hour passes without a new add, and the profile joins with no event.
        { did_not: { event: 'Product Added', window: { last: { hours: 1 } } } },
        { did_not: { event: 'Order Completed', window: { last: { days: 7 } } } },
      ],
    },
  },
  {
    id: 'upgrade-eligible',
    groupId: 'loyalty',
    name: 'Eligible for an upgrade to Gold',
    condition: { all: [{ in_audience: 'silver' }, { have: { aggregate: { fn: 'count', event: 'Order Completed', window: { last: { days: 90 } } }, op: 'gte', value: 2 } }] },
  },
  { id: 'high-ltv', groupId: 'lifecycle', name: 'High lifetime value (500 and more)', condition: ltv('gte', 500) },
] as const;

/** Creates what is missing of the demo groups and audiences; existing ones are left alone. */
export async function createDemoAudiences(engine: Engine): Promise<void> {
  const ignoreExisting = (e: unknown) => {
    if (!isAttuneError(e) || e.code !== 'CONFLICT') throw e;
  };
  for (const g of DEMO_SEGMENT_GROUPS) await engine.audiences.createGroup(g).catch(ignoreExisting);
  for (const a of DEMO_AUDIENCES) await engine.audiences.createAudience(a).catch(ignoreExisting);
}
