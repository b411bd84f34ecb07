import { describe, expect, it } from 'vitest';
import cases from '../../spec/protocol-cases.json' with { type: 'json' };
import { AttuneError } from '../errors.ts';
import { COMMERCE_EVENT_NAMES } from './commerce.ts';
import { LIMITS, utf8Length } from './limits.ts';
import { parseBatchOrThrow, parseMessageOrThrow } from './parse.ts';
import type { MessageTypeName } from './segment.ts';

const options = { receivedAt: Date.parse('2026-11-01T12:00:00Z'), newId: () => 'generated' };

function run(type: string, body: unknown) {
  return type === 'batch' ? parseBatchOrThrow(body, options) : [parseMessageOrThrow(body, type as MessageTypeName, options)];
}

describe('protocol cases (spec/protocol-cases.json)', () => {
  it.each(cases.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const body: unknown = 'raw' in c && typeof c.raw === 'string' ? JSON.parse(c.raw) : (c as { body?: unknown }).body;
    if (c.ok) {
      expect(run(c.type, body).length).toBeGreaterThan(0);
      return;
    }
    let error: unknown;
    try {
      run(c.type, body);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AttuneError);
    const paths = (error as AttuneError).issues.map((i) => i.path);
    for (const p of c.issues ?? []) expect(paths).toContain(p);
  });
});

describe('normalisation', () => {
  it('fills messageId, receivedAt and timestamp, and keeps unknown top-level fields', () => {
    const [m] = run('track', { anonymousId: 'a', event: 'X', custom: 1 });
    expect(m).toMatchObject({
      type: 'track',
      messageId: 'attune-generated',
      receivedAt: '2026-11-01T12:00:00.000Z',
      timestamp: '2026-11-01T12:00:00.000Z',
      custom: 1,
    });
  });

  it('corrects client clock skew from sentAt and originalTimestamp, as Segment does', () => {
    const [m] = run('track', {
      anonymousId: 'a',
      event: 'X',
      originalTimestamp: '2026-11-01T13:00:00Z',
      sentAt: '2026-11-01T13:00:05Z',
    });
    expect(m?.timestamp).toBe('2026-11-01T11:59:55.000Z');
  });

  it('applies batch context under each call and coerces numeric ids and product ids to strings', () => {
    const [m] = run('batch', {
      context: { library: { name: 'analytics-node' }, locale: 'en' },
      batch: [{ type: 'track', userId: 7, event: 'Product Viewed', properties: { product_id: 12 }, context: { locale: 'fr' } }],
    });
    expect(m?.userId).toBe('7');
    expect(m?.context).toEqual({ library: { name: 'analytics-node' }, locale: 'fr' });
    expect((m as { properties: Record<string, unknown> }).properties.product_id).toBe('12');
  });
});

describe('limits and hostile input', () => {
  it('refuses a call over 32 KB with PAYLOAD_TOO_LARGE', () => {
    const body = { anonymousId: 'a', event: 'X', properties: { blob: 'x'.repeat(LIMITS.maxEventBytes) } };
    expect(() => run('track', body)).toThrowError(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
  });

  it('counts multi-byte characters in the 32 KB limit', () => {
    expect(utf8Length('é€😀')).toBe(2 + 3 + 4);
    const body = { anonymousId: 'a', event: 'X', properties: { blob: '€'.repeat(11_000) } };
    expect(() => run('track', body)).toThrowError(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
  });

  it('refuses a batch over 500 KB', () => {
    const call = { type: 'track', anonymousId: 'a', event: 'X', properties: { blob: 'x'.repeat(20_000) } };
    const body = { batch: Array.from({ length: 30 }, () => call) };
    expect(() => run('batch', body)).toThrowError(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
  });

  it('refuses nesting deeper than the limit and names the path', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100; i++) {
      const next = {};
      deep.n = next;
      deep = next;
    }
    try {
      run('track', { anonymousId: 'a', event: 'X', properties: root });
      expect.unreachable();
    } catch (e) {
      expect((e as AttuneError).code).toBe('VALIDATION');
      expect((e as AttuneError).issues[0]?.message).toMatch(/nested deeper than/);
      expect((e as AttuneError).issues[0]?.path).toMatch(/^properties\.n\.n/);
    }
  });

  it('refuses unpaired surrogates in strings and keys', () => {
    expect(() => run('track', { anonymousId: 'a', event: 'X\ud800' })).toThrowError(/unpaired/);
    expect(() => run('track', { anonymousId: 'a', event: 'X', properties: { ['k\udc00']: 1 } })).toThrowError(/unpaired/);
  });

  it('refuses non-object bodies', () => {
    for (const body of [null, 1, 'x', [], true]) expect(() => run('track', body)).toThrowError(AttuneError);
  });

  it('lists every invalid field of a batch, not just the first', () => {
    try {
      run('batch', {
        batch: [
          { type: 'track', event: 'X' },
          { type: 'track', anonymousId: 'a', event: 'Order Completed', properties: { order_id: 'o', total: 'x', tax: 'y' } },
        ],
      });
      expect.unreachable();
    } catch (e) {
      const paths = (e as AttuneError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['batch[0].userId', 'batch[1].properties.total', 'batch[1].properties.tax']));
    }
  });
});

describe('commerce taxonomy', () => {
  it('has every storefront, back-office and profile event of the taxonomy', () => {
    expect(COMMERCE_EVENT_NAMES).toEqual(
      expect.arrayContaining([
        'Page Viewed', 'Products Searched', 'Product List Viewed', 'Product Viewed', 'Product Added', 'Product Removed',
        'Cart Viewed', 'Signed In', 'Signed Out', 'Checkout Started', 'Order Completed', 'Requisition List Created',
        'Product Added to Requisition List', 'Product Removed from Requisition List', 'Quote Accepted', 'Order Placed',
        'Order Shipped', 'Order Refunded', 'Order Cancelled', 'Account Created', 'Account Updated', 'Account Deleted',
      ]),
    );
  });

  it('keeps extra properties on known events', () => {
    const [m] = run('track', { anonymousId: 'a', event: 'Product Viewed', properties: { sku: 'S', color: 'red' } });
    expect((m as { properties: Record<string, unknown> }).properties).toEqual({ sku: 'S', color: 'red' });
  });
});
