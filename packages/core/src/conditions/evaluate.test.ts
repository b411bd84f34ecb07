import { describe, expect, it } from 'vitest';
import { nextChangeAt } from './analyze.ts';
import { evaluateCondition, filterMatches } from './evaluate.ts';
import type { Condition, ConditionSubject, SubjectEvent } from './types.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 3, 12);

function subjectOf(events: SubjectEvent[], memo?: Map<string, unknown>) {
  const calls = { select: 0 };
  const subject: ConditionSubject = {
    traits: {},
    computed: {},
    events: [],
    select: (name, where) => {
      calls.select++;
      return events.filter((e) => e.name === name && (where ?? []).every((f) => filterMatches(e.properties, f)));
    },
    ...(memo ? { memo } : {}),
  };
  return { subject, calls };
}

const views = (categories: string[], start: number): SubjectEvent[] =>
  categories.map((category, i) => ({ name: 'Product Viewed', timestamp: start + i * 1000, properties: { category } }));

const topIs = (value: string): Condition => ({ have: { top: { event: 'Product Viewed', property: 'category', window: { last: { days: 30 } } }, op: 'eq', value } });

describe('evaluation memo', () => {
  it('answers audiences asking the same event question from one computation, each with its own comparison', () => {
    const events = views(['Shoes', 'Shoes', 'Bags'], NOW - DAY);
    const { subject, calls } = subjectOf(events, new Map());
    expect(['Shoes', 'Bags', 'Hats'].map((v) => evaluateCondition(topIs(v), subject, NOW))).toEqual([true, false, false]);
    expect(calls.select).toBe(1);
    const spent = (value: number): Condition => ({ have: { aggregate: { fn: 'count', event: 'Product Viewed', window: { last: { days: 30 } } }, op: 'gte', value } });
    expect([1, 3, 4].map((v) => evaluateCondition(spent(v), subject, NOW))).toEqual([true, true, false]);
    expect(calls.select).toBe(2);
  });

  it('computes again at another time: a probe of the next change sees the window move', () => {
    // Two Shoes views 20 days ago, three Bags views 10 days ago: Bags is on top now, and stays
    // on top until the last Bags view leaves the window.
    const events = [...views(['Shoes', 'Shoes'], NOW - 20 * DAY), ...views(['Bags', 'Bags', 'Bags'], NOW - 10 * DAY)];
    const memo = new Map<string, unknown>();
    const { subject } = subjectOf(events, memo);
    expect(evaluateCondition(topIs('Bags'), subject, NOW)).toBe(true);
    // 15 days on, the Shoes views have left the 30-day window and Bags is still on top.
    expect(evaluateCondition(topIs('Bags'), subject, NOW + 15 * DAY)).toBe(true);
    // 21 days on, every view has left: no top value.
    expect(evaluateCondition(topIs('Bags'), subject, NOW + 21 * DAY)).toBe(false);
    // With the memo, the next change is the same as without one.
    const plain = subjectOf(events).subject;
    expect(nextChangeAt(topIs('Bags'), subject, NOW)).toBe(nextChangeAt(topIs('Bags'), plain, NOW));
    expect(nextChangeAt(topIs('Bags'), subject, NOW)).toBe(NOW - 10 * DAY + 2000 + 30 * DAY);
  });

  it('counts did / did not without a memo the same as with one', () => {
    const events = views(['Shoes', 'Bags', 'Shoes'], NOW - 3 * DAY);
    const did: Condition = { did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'Shoes' }], count: { op: 'exactly', value: 2 }, window: { last: { days: 7 } } } };
    const didNot: Condition = { did_not: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'Hats' }], window: { last: { days: 7 } } } };
    for (const memo of [undefined, new Map<string, unknown>()]) {
      const { subject } = subjectOf(events, memo);
      expect(evaluateCondition(did, subject, NOW)).toBe(true);
      expect(evaluateCondition(did, subject, NOW + 5 * DAY)).toBe(false);
      expect(evaluateCondition(didNot, subject, NOW)).toBe(true);
    }
  });
});

describe('one-segment property paths', () => {
  it('compare the value itself, arrays included, as the general path does', () => {
    const props = { category: 'Shoes', tags: ['sale', 'new'], size: 42, none: null };
    expect(filterMatches(props, { property: 'category', op: 'eq', value: 'Shoes' })).toBe(true);
    expect(filterMatches(props, { property: 'tags', op: 'contains', value: 'sale' })).toBe(true);
    expect(filterMatches(props, { property: 'size', op: 'gte', value: 40 })).toBe(true);
    expect(filterMatches(props, { property: 'size', op: 'eq', value: '42' })).toBe(false);
    expect(filterMatches(props, { property: 'none', op: 'exists' })).toBe(false);
    expect(filterMatches(props, { property: 'missing', op: 'exists', value: false })).toBe(true);
    expect(filterMatches(props, { property: 'toString', op: 'exists' })).toBe(false);
  });
});
