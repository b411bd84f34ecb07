import { describe, expect, it } from 'vitest';
import { rankRequestSchema } from '../protocol/recommend.ts';
import type { RecItem } from '../store.ts';
import { affinityProfile } from './affinity.ts';
import { rankItems } from './rank.ts';
import { emptyShopping } from './shopping.ts';

const item = (id: string, category: string, brand = 'B', price = 10): RecItem => ({
  id,
  category,
  brand,
  price,
  name: null,
  inStock: null,
  attributes: {},
  fromCatalog: false,
  deleted: false,
  views: 0,
  carts: 0,
  purchases: 0,
});

const request = (raw: Record<string, unknown>) => rankRequestSchema.parse(raw);

describe('rankItems', () => {
  const items = new Map(['a', 'b', 'c', 'd', 'e'].map((id) => [id, item(id, id === 'd' ? 'Shoes' : 'Other')]));

  it('keeps the list order without a visitor, rules or trends', () => {
    const r = request({ items: ['a', 'b', 'c'] });
    const out = rankItems({ ids: r.items, items, affinity: null, trending: new Map(), rules: r.rules, weights: r.weights });
    expect(out.items.map((i) => [i.id, i.position, i.reason])).toEqual([
      ['a', 1, 'original'],
      ['b', 2, 'original'],
      ['c', 3, 'original'],
    ]);
  });

  it('moves an item the visitor likes up, and a trending one, with the part that did it', () => {
    const shopping = { ...emptyShopping(), categories: { Shoes: 4 } };
    const r = request({ items: ['a', 'b', 'c', 'd', 'e'] });
    const out = rankItems({ ids: r.items, items, affinity: affinityProfile(shopping), trending: new Map([['e', 1]]), rules: r.rules, weights: r.weights });
    // Scores: a 1 (first), d 0.4 + 0.5 affinity, b 0.8, e 0.2 + 0.5 trending, c 0.6.
    expect(out.items.map((i) => i.id)).toEqual(['a', 'd', 'b', 'e', 'c']);
    expect(out.items[1]).toMatchObject({ reason: 'affinity:category', score: 0.9, parts: { original: 0.4, affinity: 0.5 } });
    expect(out.items.find((i) => i.id === 'e')?.reason).toBe('trending');
  });

  it('places pins that collide or point past the end, keeps buried items in their order, hides by category', () => {
    const r = request({
      items: ['a', 'b', 'c', 'd', 'e'],
      rules: {
        pin: [
          { id: 'e', position: 2 },
          { id: 'c', position: 2 },
          { id: 'b', position: 99 },
          { id: 'zzz', position: 1 },
        ],
        bury: [{ match: { ids: ['a'] } }],
        hide: [{ match: { category: 'Shoes' } }],
      },
    });
    const out = rankItems({ ids: r.items, items, affinity: null, trending: new Map(), rules: r.rules, weights: r.weights });
    // e and c both want position 2: the first pin gets it, the next takes the following free place.
    expect(out.items.map((i) => [i.id, i.reason])).toEqual([
      ['a', 'buried'],
      ['e', 'pinned'],
      ['c', 'pinned'],
      ['b', 'pinned'],
    ]);
    expect(out.hidden).toEqual([{ id: 'd', rule: 0 }]);
  });
});

describe('rankRequestSchema', () => {
  it('names what is wrong', () => {
    const r = rankRequestSchema.safeParse({ items: ['a'], rules: { boost: [{ match: {} }] } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['rules', 'boost', 0, 'match'], message: 'name ids, a category or a brand' });
  });
});
