import { describe, expect, it } from 'vitest';
import { analyzeConditions } from '../conditions/analyze.ts';
import type { Filter } from '../conditions/types.ts';
import type { CounterState } from '../profiles/types.ts';
import type { CounterRow } from '../store.ts';
import { MAX_COUNTER_ENTRIES, recordInCounters } from './counters.ts';
import { counterScanOf, countersFromRows, pushedFilter, sameCounters } from './recompute.ts';

const NOW = Date.UTC(2026, 0, 10);
const HOUR = 3_600_000;

describe('set-based recompute, in core', () => {
  it('pushes only filters a store can apply on a plain top-level property, and never narrows them', () => {
    expect(pushedFilter({ property: 'category', op: 'eq', value: 'Shoes' })).toEqual({ property: 'category', op: 'eq', values: ['Shoes'] });
    expect(pushedFilter({ property: 'category', op: 'in', value: ['a', 2] })).toEqual({ property: 'category', op: 'eq', values: ['a', 2] });
    expect(pushedFilter({ property: 'price', op: 'lte', value: 3 })).toEqual({ property: 'price', op: 'lte', value: 3 });
    expect(pushedFilter({ property: 'price', op: 'exists' })).toEqual({ property: 'price', op: 'exists' });
    // The core alone checks these: negations, substrings, nested or odd names, non-scalar values.
    for (const f of [
      { property: 'category', op: 'neq', value: 'x' },
      { property: 'category', op: 'not_in', value: ['x'] },
      { property: 'category', op: 'contains', value: 'x' },
      { property: 'category', op: 'starts_with', value: 'x' },
      { property: 'category', op: 'exists', value: false },
      { property: 'category', op: 'eq', value: true },
      { property: 'category', op: 'eq', value: null },
      { property: 'price', op: 'gt', value: '10' },
      { property: 'item.brand', op: 'eq', value: 'x' },
      { property: 'size-eu', op: 'eq', value: 1 },
    ] satisfies Filter[]) {
      expect(pushedFilter(f)).toBeNull();
    }
  });

  it('builds exactly the counters ingestion builds from the same events, past the entry cap', () => {
    const specs = analyzeConditions([
      { did: { event: 'View', where: [{ property: 'kind', op: 'neq', value: 'b' }], window: { last: { hours: 5000 } } } },
      { have: { aggregate: { fn: 'sum', event: 'Buy', property: 'total', window: 'ever' }, op: 'gte', value: 1 } },
    ]);
    const scan = counterScanOf(specs, NOW);
    expect(scan.map((s) => s.properties)).toEqual([['kind'], ['total']]);
    const rows: CounterRow[] = [];
    for (let i = 0; i < 5000; i++) {
      rows.push({ profileId: 'p', name: i % 7 === 0 ? 'Buy' : 'View', ts: NOW - (5500 - i) * HOUR, properties: i % 5 === 0 ? { kind: 'b' } : { kind: 'a', total: i } });
    }
    const incremental: Record<string, CounterState> = {};
    for (const r of rows) recordInCounters(incremental, specs, { name: r.name, timestamp: r.ts, properties: r.properties }, NOW);
    const rebuilt = countersFromRows(rows, specs, scan, NOW);
    const view = rebuilt[specs[0]?.key as string];
    expect(view?.entries).toHaveLength(MAX_COUNTER_ENTRIES);
    expect(view?.dropped).toBeGreaterThan(0);
    // Ingestion keeps an empty state for events that left the window; the rest is identical.
    expect(rebuilt).toEqual(incremental);
    expect(sameCounters(incremental, rebuilt, specs, NOW)).toBe(true);
  });

  it('compares counters as evaluation reads them: window-expired entries and empty states do not count', () => {
    const specs = analyzeConditions([{ did: { event: 'View', window: { last: { hours: 1 } } } }]);
    const key = specs[0]?.key as string;
    const fresh = { [key]: { entries: [{ t: NOW - 10 }] } };
    expect(sameCounters({ [key]: { entries: [{ t: NOW - 2 * HOUR }, { t: NOW - 10 }] } }, fresh, specs, NOW)).toBe(true);
    expect(sameCounters({ [key]: { entries: [] } }, {}, specs, NOW)).toBe(true);
    expect(sameCounters({ [key]: { entries: [{ t: NOW - 11 }] } }, fresh, specs, NOW)).toBe(false);
    // A counter no audience asks for any more is cleared.
    expect(sameCounters({ ...fresh, old: { entries: [] } }, fresh, specs, NOW)).toBe(false);
  });
});
