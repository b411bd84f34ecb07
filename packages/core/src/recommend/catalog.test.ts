import { describe, expect, it } from 'vitest';
import type { CatalogItem } from '../protocol/catalog.ts';
import type { RecItem } from '../store.ts';
import { productFromCatalog } from './catalog.ts';
import { similarity } from './similarity.ts';

const item = (fields: Array<[string, string, unknown]>, extra: Partial<CatalogItem> = {}): CatalogItem => ({
  id: 'p1',
  type: 'product',
  updatedAt: '2026-01-01T00:00:00Z',
  fields: fields.map(([name, type, value]) => ({ name, field: name, type, value })),
  ...extra,
});

describe('productFromCatalog', () => {
  it('finds category, brand, price, name and stock under the usual names and keeps short scalars as attributes', () => {
    const p = productFromCatalog(
      item([
        ['Title', 'string', 'Trail shoe'],
        ['collections', 'relation', [{ name: 'Shoes' }, { name: 'Sale' }]],
        ['vendor', 'string', 'Acme'],
        ['unit_price', 'string', '89.90'],
        ['availability', 'string', 'Out of stock'],
        ['material', 'string', 'mesh'],
        ['tags', 'json', ['a']],
        ['colors', 'string', ['red', 'blue']],
        ['description', 'richtext', 'long text'],
        ['weight', 'number', 320],
      ]),
    );
    expect(p).toEqual({
      id: 'p1',
      name: 'Trail shoe',
      category: 'Shoes',
      brand: 'Acme',
      price: 89.9,
      inStock: false,
      attributes: { material: 'mesh', colors: ['red', 'blue'], weight: 320 },
    });
  });

  it('reads stock counts and money objects, and marks tombstones deleted', () => {
    expect(productFromCatalog(item([['stock', 'number', 3], ['price', 'json', { amount: 12, currency: 'EUR' }]]))).toMatchObject({ inStock: true, price: 12 });
    expect(productFromCatalog(item([['inStock', 'string', '0']]))).toMatchObject({ inStock: false });
    expect(productFromCatalog(item([['inStock', 'string', 'maybe']])).inStock).toBeUndefined();
    expect(productFromCatalog(item([], { deleted: true }))).toEqual({ id: 'p1', attributes: {}, deleted: true });
  });
});

describe('similarity', () => {
  const rec = (over: Partial<RecItem>): RecItem => ({ id: 'x', category: null, brand: null, price: null, name: null, inStock: null, attributes: {}, fromCatalog: true, deleted: false, views: 0, carts: 0, purchases: 0, ...over });
  it('weighs category, brand, price closeness and shared attribute values', () => {
    const a = rec({ category: 'Shoes', brand: 'Acme', price: 100, attributes: { material: 'Mesh', colors: ['red', 'blue'] } });
    expect(similarity(a, a)).toBeCloseTo(1, 10);
    expect(similarity(a, rec({ category: 'Shoes' }))).toBeCloseTo(0.35, 10);
    // Price three times higher scores no price closeness; case does not matter in values.
    expect(similarity(a, rec({ price: 300, attributes: { material: 'mesh' } }))).toBeCloseTo(0.1, 10);
    expect(similarity(a, rec({}))).toBe(0);
  });
});
