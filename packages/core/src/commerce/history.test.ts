import { describe, expect, it } from 'vitest';
import { orderHistoryRowSchema } from '../protocol/records.ts';
import { importHistoryInChunks, type OrderHistoryRowInput, orderHistoryRow, orderHistorySince } from './history.ts';

describe('order history rows', () => {
  it('turns a placed order into a row the import endpoint accepts', () => {
    const row = orderHistoryRow(
      {
        id: 5,
        code: 'A5',
        customer: { id: 3, email: 'b@example.com' },
        currency: 'USD',
        total: 30,
        lines: [{ productId: 9, price: 15, quantity: 2 }],
        placedAt: '2023-05-01T10:00:00.000Z',
      },
      'refunded',
    );
    expect(row).toEqual({
      order_id: 'A5',
      userId: '3',
      email: 'b@example.com',
      timestamp: '2023-05-01T10:00:00.000Z',
      total: 30,
      revenue: 30,
      currency: 'USD',
      status: 'refunded',
      products: [{ product_id: '9', price: 15, quantity: 2 }],
    });
    expect(orderHistoryRowSchema.safeParse(row).success).toBe(true);
  });

  it('refuses an order never placed, and computes the five-year window', () => {
    expect(() => orderHistoryRow({ id: 1, currency: 'EUR', total: 0 })).toThrow('order 1: not placed');
    expect(orderHistorySince(Date.parse('2026-12-03T06:00:00Z'))).toBe('2021-12-03T06:00:00.000Z');
  });
});

describe('importHistoryInChunks', () => {
  const row = (i: number): OrderHistoryRowInput =>
    orderHistoryRow({ id: `o${i}`, placedAt: '2025-01-01T00:00:00Z', total: 1, currency: 'EUR', customer: { id: 'u' }, lines: [] });
  it('sends the window in chunks, tallies the answers and reports progress after each', async () => {
    const sent: number[] = [];
    const progress: number[] = [];
    const result = await importHistoryInChunks({
      total: 5,
      chunkSize: 2,
      started: 100,
      now: () => 130,
      page: async (offset, limit) => Array.from({ length: Math.min(limit, 5 - offset) }, (_, i) => row(offset + i)),
      send: async (rows) => {
        sent.push(rows.length);
        return { accepted: rows.length - 1, duplicates: 1, errorCount: 0 };
      },
      options: { onProgress: (p) => progress.push(p.done) },
    });
    expect(sent).toEqual([2, 2, 1]);
    expect(progress).toEqual([2, 4, 5]);
    expect(result).toEqual({ total: 5, sent: 5, accepted: 2, duplicates: 3, errors: 0, durationMs: 30 });
  });

  it('stops between chunks when aborted', async () => {
    const signal = { aborted: false };
    const result = await importHistoryInChunks({
      total: 10,
      chunkSize: 3,
      started: 0,
      page: async (offset, limit) => Array.from({ length: limit }, (_, i) => row(offset + i)),
      send: async (rows) => {
        signal.aborted = true;
        return { accepted: rows.length, duplicates: 0, errorCount: 0 };
      },
      options: { signal },
    });
    expect(result.sent).toBe(3);
  });
});
