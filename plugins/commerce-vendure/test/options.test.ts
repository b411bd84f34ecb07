import { describe, expect, it } from 'vitest';
import { parseFieldRules } from '../src/exports.ts';
import { attuneVendureOptionsSchema } from '../src/options.ts';
import { AttunePlugin } from '../src/plugin.ts';

const base = { attuneUrl: 'http://localhost:4000', writeKey: 'wk', secretKey: 'sk' };

describe('plugin options', () => {
  it('fills defaults: a stream id per source, delivery and activation settings', () => {
    const o = attuneVendureOptionsSchema.parse(base);
    expect(o.catalog.products.streamId).toBe('vendure-products');
    expect(o.catalog.customers.streamId).toBe('vendure-customers');
    expect(o.delivery).toMatchObject({ pollMs: 1000, batchSize: 100, maxAttempts: 20 });
    expect(o.activation.secret).toBeUndefined();
  });

  it('refuses bad options naming the option', () => {
    expect(() => AttunePlugin.init({ ...base, attuneUrl: 'localhost' })).toThrow(/attuneUrl/);
    expect(() => AttunePlugin.init({ ...base, activation: { secret: 'nope' } })).toThrow(/activation\.secret/);
    expect(() => AttunePlugin.init({ ...base, catalog: { products: { streamId: 'Bad Id!' } } })).toThrow(/catalog\.products\.streamId/);
  });

  it('checks field rules against the Vendure schemas, with the path of each problem', () => {
    const catalog = (fields: Record<string, unknown>, hashKey?: string) =>
      attuneVendureOptionsSchema.parse({ ...base, catalog: { ...(hashKey ? { hashKey } : {}), products: { streamId: 'p', fields } } }).catalog;
    expect(parseFieldRules(catalog({ fields: { name: { rename: 'title' } } }))).toEqual({ product: { fields: { name: { rename: 'title' } } } });
    expect(() => parseFieldRules(catalog({ fields: { colour: { include: false } } }))).toThrow('product.fields.colour: "product" has no field "colour"');
    expect(() => parseFieldRules(catalog({ fields: { price: { transform: 'lowercase' } } }))).toThrow('product.fields.price.transform');
    expect(() => parseFieldRules(catalog({ fields: { sku: { transform: 'hash' } } }))).toThrow('hashKey: a field rule hashes, so a hash key is required');
    expect(() => parseFieldRules(catalog({ fields: { sku: { rename: 'name' } } }))).toThrow('would both be exported as "name"');
  });
});
