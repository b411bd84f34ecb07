import { describe, expect, it } from 'vitest';
import { incrementTraits, mergeTraits, unsetTraits, writeTraits } from './traits.ts';
import { newProfile } from './types.ts';

describe('trait writes', () => {
  it('keeps the latest write by event time, so a late old event does not overwrite', () => {
    const p = newProfile('p', 0);
    writeTraits(p, { plan: 'pro' }, 200, 'set', {});
    writeTraits(p, { plan: 'free' }, 100, 'set', {});
    expect(p.traits.plan).toBe('pro');
    writeTraits(p, { plan: 'team' }, 300, 'set', {});
    expect(p.traits.plan).toBe('team');
  });

  it('setOnce keeps the first value, also against later plain sets', () => {
    const p = newProfile('p', 0);
    writeTraits(p, { first_source: 'google' }, 100, 'setOnce', {});
    writeTraits(p, { first_source: 'bing' }, 200, 'setOnce', {});
    writeTraits(p, { first_source: 'email' }, 300, 'set', {});
    expect(p.traits.first_source).toBe('google');
  });

  it('honours per-trait strategies max, min and union', () => {
    const p = newProfile('p', 0);
    const s = { score: 'max', lowest: 'min', tags: 'union' } as const;
    writeTraits(p, { score: 5, lowest: 5, tags: ['a'] }, 1, 'set', s);
    writeTraits(p, { score: 3, lowest: 3, tags: ['b', 'a'] }, 2, 'set', s);
    expect(p.traits).toMatchObject({ score: 5, lowest: 3, tags: ['a', 'b'] });
  });

  it('increments and unsets', () => {
    const p = newProfile('p', 0);
    incrementTraits(p, { logins: 1 }, 1);
    incrementTraits(p, { logins: 2 }, 2);
    expect(p.traits.logins).toBe(3);
    unsetTraits(p, ['logins'], 3);
    expect(p.traits).not.toHaveProperty('logins');
  });

  it('cannot reach a prototype through a trait name', () => {
    const p = newProfile('p', 0);
    writeTraits(p, JSON.parse('{"__proto__": {"polluted": true}}'), 1, 'set', {});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(p.traits)).toBe(Object.prototype);
  });
});

describe('trait merge', () => {
  it('most recent wins per trait; setOnce keeps the earliest', () => {
    const a = newProfile('a', 0);
    const b = newProfile('b', 0);
    writeTraits(a, { name: 'Ada', city: 'Paris' }, 100, 'set', {});
    writeTraits(b, { name: 'Ada Lovelace' }, 200, 'set', {});
    writeTraits(b, { city: 'Lyon' }, 50, 'set', {});
    writeTraits(a, { signup: 'a' }, 300, 'setOnce', {});
    writeTraits(b, { signup: 'b' }, 10, 'setOnce', {});
    mergeTraits(a, b, {});
    expect(a.traits).toEqual({ name: 'Ada Lovelace', city: 'Paris', signup: 'b' });
  });
});
