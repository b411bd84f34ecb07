import { describe, expect, it } from 'vitest';
import { analyzeCondition, nextChangeAt, probeNextChange } from './analyze.ts';
import { evaluateCondition } from './evaluate.ts';
import type { Condition, ConditionSubject } from './types.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 15, 12);
const subject = (events: Array<[string, number, Record<string, unknown>?]>): ConditionSubject => ({
  traits: {},
  computed: {},
  events: events.map(([name, timestamp, properties]) => ({ name, timestamp, properties: properties ?? {} })),
});

describe('nextChangeAt', () => {
  it('is when the last matching event leaves a "last N days" window', () => {
    const c: Condition = { did: { event: 'Product Added', window: { last: { days: 7 } } } };
    const s = subject([
      ['Product Added', NOW - 3 * DAY],
      ['Product Added', NOW - 1 * DAY],
    ]);
    const at = nextChangeAt(c, s, NOW);
    expect(at).toBe(NOW - DAY + 7 * DAY);
    // Exact: still a member 1 ms before, out at that instant.
    expect(evaluateCondition(c, s, (at as number) - 1)).toBe(true);
    expect(evaluateCondition(c, s, at as number)).toBe(false);
  });

  it('waits for the count to drop below the threshold', () => {
    const c: Condition = { did: { event: 'X', count: { op: 'at_least', value: 2 }, window: { last: { days: 7 } } } };
    const s = subject([
      ['X', NOW - 6 * DAY],
      ['X', NOW - 5 * DAY],
      ['X', NOW - 1 * DAY],
    ]);
    // Leaving of the first event keeps two in the window; the second one's leaving ends it.
    expect(nextChangeAt(c, s, NOW)).toBe(NOW - 5 * DAY + 7 * DAY);
  });

  it('sees an entry by expiry: did_not starts to hold when the event ages out', () => {
    const c: Condition = { did_not: { event: 'Order Completed', window: { last: { hours: 1 } } } };
    const s = subject([['Order Completed', NOW - 30 * 60_000]]);
    expect(evaluateCondition(c, s, NOW)).toBe(false);
    expect(nextChangeAt(c, s, NOW)).toBe(NOW + 30 * 60_000);
  });

  it('is null when nothing can change without a new event', () => {
    expect(nextChangeAt({ did: { event: 'X' } }, subject([['X', NOW - DAY]]), NOW)).toBeNull();
    expect(nextChangeAt({ have: { trait: 'traits.plan', op: 'eq', value: 'gold' } }, subject([]), NOW)).toBeNull();
  });

  it('counts a future-dated event when its time comes', () => {
    const c: Condition = { did: { event: 'X' } };
    expect(nextChangeAt(c, subject([['X', NOW + DAY]]), NOW)).toBe(NOW + DAY);
  });

  it('follows aggregates in windows', () => {
    const c: Condition = {
      have: { aggregate: { fn: 'sum', event: 'Order Completed', property: 'total', window: { last: { days: 365 } } }, op: 'gte', value: 500 },
    };
    const s = subject([
      ['Order Completed', NOW - 300 * DAY, { total: 300 }],
      ['Order Completed', NOW - 10 * DAY, { total: 250 }],
    ]);
    expect(nextChangeAt(c, s, NOW)).toBe(NOW - 300 * DAY + 365 * DAY);
  });
});

describe('analyzeCondition', () => {
  it('merges the questions asked of the same events and filters, with the longest window and every property read', () => {
    const shoes = [{ property: 'category', op: 'eq' as const, value: 'Shoes' }];
    const c: Condition = {
      all: [
        { did: { event: 'Product Viewed', where: shoes, window: { last: { days: 7 } } } },
        { not: { did_not: { event: 'Product Viewed', where: shoes, window: { last: { days: 30 } } } } },
        { have: { aggregate: { fn: 'sum', event: 'Order Completed', property: 'total' }, op: 'gt', value: 1 } },
        { have: { top: { event: 'Product Viewed', property: 'brand', window: { last: { days: 30 } } }, op: 'eq', value: 'Acme' } },
      ],
    };
    const specs = analyzeCondition(c);
    expect(specs).toHaveLength(3);
    expect(specs[0]).toMatchObject({ event: 'Product Viewed', paths: [], windowMs: 30 * DAY });
    expect(specs[1]).toMatchObject({ event: 'Order Completed', paths: ['total'], windowMs: null });
    expect(specs[2]).toMatchObject({ event: 'Product Viewed', where: [], paths: ['brand'], windowMs: 30 * DAY });
    // Key order in filters does not change the key.
    const again = analyzeCondition({ did: { event: 'Product Viewed', where: [{ value: 'Shoes', op: 'eq', property: 'category' }] } });
    expect(again[0]?.key).toBe(specs[0]?.key);
  });
});

describe('nextChangeAt with a probe limit', () => {
  it('returns a safe earlier check time when the change lies past the probed candidates', () => {
    const c: Condition = { did: { event: 'X', window: { last: { days: 30 } } } };
    const s = subject(Array.from({ length: 10 }, (_, i) => ['X', NOW - (20 - i) * DAY] as [string, number]));
    const exact = nextChangeAt(c, s, NOW) as number;
    expect(exact).toBe(NOW - 11 * DAY + 30 * DAY);
    // This shape has a closed form, exact whatever the limit; the general search stops early.
    expect(nextChangeAt(c, s, NOW, 3)).toBe(exact);
    const early = probeNextChange(c, s, NOW, 3) as number;
    expect(early).toBe(NOW - 18 * DAY + 30 * DAY);
    expect(early).toBeLessThan(exact);
    // Checking again at that time finds the exact change.
    expect(nextChangeAt(c, s, early)).toBe(exact);
  });
});

describe('nextChangeAt closed form', () => {
  it('agrees with the general search on random histories for did / did not in a last-N window', () => {
    let seed = 99;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const shapes: Condition[] = [
      { did: { event: 'A', window: { last: { hours: 5 } } } },
      { did: { event: 'A', count: { op: 'at_least', value: 3 }, window: { last: { hours: 5 } } } },
      { did: { event: 'A', where: [{ property: 'c', op: 'eq', value: 'x' }], count: { op: 'at_least', value: 2 }, window: { last: { days: 1 } } } },
      { did_not: { event: 'A', window: { last: { hours: 2 } } } },
      { did_not: { event: 'A', where: [{ property: 'c', op: 'eq', value: 'y' }], window: { last: { minutes: 90 } } } },
    ];
    let compared = 0;
    for (let round = 0; round < 400; round++) {
      const events: Array<[string, number, Record<string, unknown>]> = [];
      const n = Math.floor(rand() * 8);
      for (let i = 0; i < n; i++) {
        // Some on the same instant, a few in the future, some long ago.
        const offset = Math.floor((rand() - 0.85) * 30) * 15 * 60_000;
        events.push([rand() < 0.8 ? 'A' : 'B', NOW + offset, { c: rand() < 0.5 ? 'x' : 'y' }]);
      }
      const s = subject(events);
      for (const c of shapes) {
        expect({ round, c, at: nextChangeAt(c, s, NOW) }).toEqual({ round, c, at: probeNextChange(c, s, NOW) });
        compared++;
      }
    }
    expect(compared).toBe(2000);
  });
});

describe('counter keys', () => {
  it('are short hashes of the canonical question, and records with the older canonical keys are renamed on read', async () => {
    const { profileFromData } = await import('../profiles/types.ts');
    const key = analyzeCondition({ did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'Shoes' }] } })[0]?.key as string;
    expect(key).toMatch(/^[0-9a-z]+\.[0-9a-z]+$/);
    const legacy = '{"event":"Product Viewed","where":[{"op":"eq","property":"category","value":"Shoes"}]}';
    const p = profileFromData({ id: 'p', mergedInto: null, createdAt: 1, updatedAt: 1 }, { counters: { [legacy]: { entries: [{ t: 5 }] } } });
    expect(p.counters).toEqual({ [key]: { entries: [{ t: 5 }] } });
  });
});
