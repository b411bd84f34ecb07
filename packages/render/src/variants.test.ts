import { describe, expect, it } from 'vitest';
import { chooseVariant } from './variants.ts';

const variants = [
  { label: 'VIP', binding: { kind: 'audience', id: 'vip' } },
  { label: 'B arm', binding: { kind: 'experiment', id: 'exp1', variant: 'b' } },
  { label: 'Runners', binding: { kind: 'audience', id: 'runners' } },
  { label: 'Everyone', binding: { kind: 'default' } },
] as const;

describe('chooseVariant', () => {
  it('shows the first audience variant the visitor belongs to, in the editor order', () => {
    expect(chooseVariant(variants, { audiences: ['runners', 'vip'] })).toMatchObject({ index: 0, reason: 'audience' });
    expect(chooseVariant(variants, { audiences: ['runners'] }).variant?.label).toBe('Runners');
  });
  it('puts an assigned experiment arm before audiences, from assignments or decisions', () => {
    expect(chooseVariant(variants, { audiences: ['vip'], assignments: { exp1: { variant: 'b' } } }).variant?.label).toBe('B arm');
    const decision = { experience: 'x', experiment: 'exp1', variant: 'b', content: null, reason: 'experiment' as const };
    expect(chooseVariant(variants, { decisions: { hero: decision } })).toMatchObject({ index: 1, reason: 'experiment' });
    expect(chooseVariant(variants, { assignments: { exp1: { variant: 'a' } } }).reason).toBe('default');
  });
  it('falls back to the default, then to nothing', () => {
    expect(chooseVariant(variants, {}).variant?.label).toBe('Everyone');
    expect(chooseVariant(variants.slice(0, 3), { audiences: ['other'] })).toEqual({ variant: null, index: -1, reason: 'none' });
  });
});
