import { describe, expect, it } from 'vitest';
import { orderHistoryRowSchema } from '../protocol/records.ts';
import { orderHistoryRow, orderHistorySince } from './history.ts';

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
