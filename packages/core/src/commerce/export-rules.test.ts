import { describe, expect, it } from 'vitest';
import { resolveFieldRules } from './export-rules.ts';

const schemas = { product: { name: { type: 'string' }, price: { type: 'number' }, sku: { type: 'string' } }, customer: { email: { type: 'email' } } };

describe('resolveFieldRules', () => {
  it('keeps the types that have rules, checked against the schemas', () => {
    expect(resolveFieldRules({ product: { fields: { name: { rename: 'title' } } }, customer: {} }, schemas, { label: 'shop' })).toEqual({ product: { fields: { name: { rename: 'title' } } } });
  });

  it('lists every problem with its path', () => {
    expect(() => resolveFieldRules({ product: { fields: { name: { transform: 'shout' } } } }, schemas, { label: 'shop' })).toThrow(/^shop: product\.fields\.name\.transform/);
    let message = '';
    try {
      resolveFieldRules({ product: { fields: { colour: {}, price: { transform: 'trim' }, sku: { rename: 'name' } } }, customer: { fields: { email: { transform: 'hash' } } } }, schemas, { label: 'shop' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('product.fields.colour: "product" has no field "colour"');
    expect(message).toContain('product.fields.price.transform: "trim" does not apply to a number field');
    expect(message).toContain('would both be exported as "name"');
    expect(message).toContain('hashKey: a field rule hashes');
  });
});
