import { describe, expect, it } from 'vitest';
import { counterKey } from '../conditions/analyze.ts';
import type { Condition } from '../conditions/types.ts';
import { newProfile } from '../profiles/types.ts';
import { compileAudiences, emptyChanges, evaluateAudiences, mayChange } from './compiled.ts';

const NOW = Date.UTC(2026, 11, 3, 12);
const viewed = (category: string): Condition => ({ did: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: category }], window: { last: { days: 7 } } } });
const shoesKey = counterKey('Product Viewed', [{ property: 'category', op: 'eq', value: 'Shoes' }]);
const bagsKey = counterKey('Product Viewed', [{ property: 'category', op: 'eq', value: 'Bags' }]);

const compiled = compileAudiences(
  [
    { id: 'shoes', groupId: 'g', name: 'Viewed Shoes', condition: viewed('Shoes') },
    { id: 'bags', groupId: 'g', name: 'Viewed Bags', condition: viewed('Bags') },
    { id: 'top', groupId: 'g', name: 'Top is Shoes', condition: { have: { top: { event: 'Product Viewed', property: 'category' }, op: 'eq', value: 'Shoes' } } },
    { id: 'shoes-member', groupId: 'g', name: 'Shoes, inherited', condition: { in_audience: 'shoes' } },
  ],
  'v1',
);

describe('audience dependencies', () => {
  it('are counters (event and filters), not event names: a Bags view cannot move "viewed Shoes"', () => {
    const changes = { ...emptyChanges(), counters: new Set([bagsKey]) };
    expect(mayChange(compiled.deps.get('shoes')!, changes)).toBe(false);
    expect(mayChange(compiled.deps.get('bags')!, changes)).toBe(true);
    // An in_audience reference reads what the audience it names reads.
    expect(mayChange(compiled.deps.get('shoes-member')!, changes)).toBe(false);
    expect(mayChange(compiled.deps.get('shoes-member')!, { ...emptyChanges(), counters: new Set([shoesKey]) })).toBe(true);
    // The top value reads every Product Viewed, whatever its category.
    expect(mayChange(compiled.deps.get('top')!, { ...emptyChanges(), counters: new Set([counterKey('Product Viewed', undefined)]) })).toBe(true);
  });

  it('an audience whose counters did not change keeps its answer without being evaluated', () => {
    // The record says "member of shoes" while its counters hold nothing: evaluating would end
    // the membership, so keeping it shows the audience was skipped.
    const profile = { ...newProfile('p1', NOW - 1000), audiences: { shoes: NOW - 1000 } };
    const skipped = evaluateAudiences(profile, compiled, NOW, { ...emptyChanges(), counters: new Set([bagsKey]) });
    expect(skipped.members.shoes).toBe(NOW - 1000);
    expect(skipped.exited).toEqual([]);
    const evaluated = evaluateAudiences(profile, compiled, NOW, { ...emptyChanges(), counters: new Set([shoesKey]) });
    expect(evaluated.exited).toEqual(['shoes']);
  });
});
