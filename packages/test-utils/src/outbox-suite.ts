import type { OutboxEntry } from '@attune/core';
import { describe, expect, it } from 'vitest';
import type { StoreContext } from './store-port-suite.ts';

const T = Date.UTC(2025, 5, 1, 12);
const entry = (i: number) => ({ topic: 'audience.membership', key: `p-${i}`, payload: { n: i, nested: { ok: true } }, createdAt: T + i });

/** The transactional outbox: commit-ordered entries, durable cursors, dead letters. */
export function describeOutbox(ctx: StoreContext): void {
  describe('outbox', () => {
    it('delivers committed entries in order from each consumer cursor', async () => {
      await ctx.store.transaction((tx) => tx.appendOutbox([entry(1), entry(2)]));
      await ctx.store.transaction((tx) => tx.appendOutbox([entry(3)]));
      const first = await ctx.store.outbox.read('a', 10);
      expect(first.map((e) => e.payload)).toEqual([1, 2, 3].map((n) => ({ n, nested: { ok: true } })));
      expect(first[0]).toMatchObject({ topic: 'audience.membership', key: 'p-1', createdAt: T + 1 });
      expect(first.map((e) => e.seq)).toEqual([...first.map((e) => e.seq)].sort((x, y) => x - y));
      await ctx.store.outbox.ack('a', (first[1] as OutboxEntry).seq);
      expect((await ctx.store.outbox.read('a', 10)).map((e) => e.key)).toEqual(['p-3']);
      // Each consumer has its own cursor, and a cursor never moves back.
      expect(await ctx.store.outbox.read('b', 10)).toHaveLength(3);
      await ctx.store.outbox.ack('a', (first[0] as OutboxEntry).seq);
      expect(await ctx.store.outbox.cursor('a')).toBe((first[1] as OutboxEntry).seq);
      expect(await ctx.store.outbox.read('a', 1)).toHaveLength(1);
    });

    it('never shows an entry of a rolled-back transaction', async () => {
      await expect(
        ctx.store.transaction(async (tx) => {
          await tx.appendOutbox([entry(1)]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await ctx.store.transaction((tx) => tx.appendOutbox([entry(2)]));
      expect((await ctx.store.outbox.read('a', 10)).map((e) => e.key)).toEqual(['p-2']);
    });

    it('lets a consumer reading while writers commit see every entry exactly once, in order', async () => {
      const seen: number[] = [];
      let done = false;
      const reader = (async () => {
        while (!done || (await ctx.store.outbox.read('r', 1)).length > 0) {
          const batch = await ctx.store.outbox.read('r', 50);
          for (const e of batch) seen.push((e.payload as { n: number }).n);
          if (batch.length > 0) await ctx.store.outbox.ack('r', (batch[batch.length - 1] as OutboxEntry).seq);
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      await Promise.all(
        Array.from({ length: 20 }, (_, w) =>
          ctx.store.transaction(async (tx) => {
            await tx.appendOutbox([entry(w * 2), entry(w * 2 + 1)]);
            await new Promise((r) => setTimeout(r, (w * 7) % 5));
          }),
        ),
      );
      done = true;
      await reader;
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    });

    it('parks dead letters per consumer and hands them back once', async () => {
      await ctx.store.transaction((tx) => tx.appendOutbox([entry(1)]));
      const [e] = await ctx.store.outbox.read('hook', 1);
      const letter = await ctx.store.outbox.deadLetter({ consumer: 'hook', entry: e as OutboxEntry, error: 'HTTP 500', attempts: 8, at: T });
      expect(await ctx.store.outbox.listDeadLetters('hook')).toEqual([letter]);
      expect(await ctx.store.outbox.listDeadLetters('other')).toEqual([]);
      expect(await ctx.store.outbox.takeDeadLetter('other', letter.id)).toBeNull();
      expect(await ctx.store.outbox.takeDeadLetter('hook', letter.id)).toEqual(letter);
      expect(await ctx.store.outbox.takeDeadLetter('hook', letter.id)).toBeNull();
      expect(await ctx.store.outbox.listDeadLetters('hook')).toEqual([]);
    });
  });
}
