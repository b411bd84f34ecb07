import { describe, expect, it } from 'vitest';
import { parseFieldRules, scheduleDue } from '../src/exports.ts';
import { parseOptions } from '../src/options.ts';
import { amount, toOrder } from '../src/translate.ts';

const base = { attuneUrl: 'http://localhost:4000', writeKey: 'wk', secretKey: 'sk' };

describe('Medusa plugin options and translation', () => {
  it('fills defaults and refuses bad options naming the option', () => {
    expect(parseOptions(base).catalog.products.streamId).toBe('medusa-products');
    expect(() => parseOptions({ ...base, attuneUrl: 'nope' })).toThrow(/attuneUrl/);
    expect(() => parseOptions({ ...base, activation: { secret: 'x' } })).toThrow(/activation\.secret/);
  });

  it('checks field rules against the Medusa schemas', () => {
    const catalog = parseOptions({ ...base, catalog: { products: { streamId: 'p', fields: { fields: { colour: {} } } } } }).catalog;
    expect(() => parseFieldRules(catalog)).toThrow('product.fields.colour: "product" has no field "colour"');
  });

  it('runs the export when the configured schedule fired since the last check', () => {
    const at = (s: string) => new Date(s);
    expect(scheduleDue('0 3 * * *', 'UTC', at('2026-12-03T02:59:30Z'), at('2026-12-03T03:00:30Z'))).toBe(true);
    expect(scheduleDue('0 3 * * *', 'UTC', at('2026-12-03T03:00:30Z'), at('2026-12-03T03:01:30Z'))).toBe(false);
    expect(scheduleDue('*/15 * * * *', undefined, at('2026-12-03T07:14:10Z'), at('2026-12-03T07:15:10Z'))).toBe(true);
  });

  it('reads Medusa amounts whatever their form, and an order without a customer keeps its email', () => {
    expect(amount(12.5)).toBe(12.5);
    expect(amount('7.25')).toBe(7.25);
    expect(amount({ numeric_: 3, raw_: { value: '3' } })).toBe(3);
    const order = toOrder({ id: 'order_1', display_id: 12, email: 'guest@example.com', currency_code: 'eur', total: 10, customer: { id: 'cus_1' }, items: [{ id: 'i', quantity: 1, unit_price: 10, product_id: 'prod_1' }] });
    expect(order).toMatchObject({ code: '12', currency: 'EUR', customer: { id: 'cus_1', email: 'guest@example.com' }, lines: [{ productId: 'prod_1', price: 10, quantity: 1 }] });
  });
});
