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

    it('prunes what every consumer has acknowledged, keeps the tail, and forgets a dropped consumer', async () => {
      expect(await ctx.store.outbox.tail()).toBe(0);
      await ctx.store.transaction((tx) => tx.appendOutbox([entry(1), entry(2), entry(3), entry(4)]));
      const all = await ctx.store.outbox.read('a', 10);
      const seq = all.map((e) => e.seq);
      expect(await ctx.store.outbox.tail()).toBe(seq[3]);
      await ctx.store.outbox.ack('a', seq[2] as number);
      await ctx.store.outbox.ack('b', seq[0] as number);
      // A consumer that never acknowledged anything holds everything back.
      const later = T + 1000;
      expect(await ctx.store.outbox.prune(['a', 'b', 'never'], later)).toBe(0);
      // Only entries written before the given time go.
      expect(await ctx.store.outbox.prune([], T + 1)).toBe(0);
      // The slowest of the listed consumers decides.
      expect(await ctx.store.outbox.prune(['a', 'b'], later)).toBe(1);
      expect((await ctx.store.outbox.read('b', 10)).map((e) => e.key)).toEqual(['p-2', 'p-3', 'p-4']);
      expect((await ctx.store.outbox.read('a', 10)).map((e) => e.key)).toEqual(['p-4']);
      // b is gone: its cursor no longer holds pruning back, and its dead letters go with it.
      await ctx.store.outbox.deadLetter({ consumer: 'b', entry: all[1] as OutboxEntry, error: 'HTTP 500', attempts: 8, at: T });
      await ctx.store.outbox.dropConsumer('b');
      expect(await ctx.store.outbox.cursor('b')).toBe(0);
      expect(await ctx.store.outbox.listDeadLetters('b')).toEqual([]);
      expect(await ctx.store.outbox.prune(['a'], later)).toBe(2);
      // No consumer at all: nothing is kept, but the tail stays and new entries come after it.
      expect(await ctx.store.outbox.prune([], later)).toBe(1);
      expect(await ctx.store.outbox.read('c', 10)).toEqual([]);
      expect(await ctx.store.outbox.tail()).toBe(seq[3]);
      await ctx.store.transaction((tx) => tx.appendOutbox([entry(5)]));
      const [next] = await ctx.store.outbox.read('a', 10);
      expect(next?.key).toBe('p-5');
      expect(next?.seq).toBeGreaterThan(seq[3] as number);
      expect(await ctx.store.outbox.tail()).toBe(next?.seq);
    });
  });
}
