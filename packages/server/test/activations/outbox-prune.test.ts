import { silentLogger } from '@attune/core';
import { createSqliteStore } from '@attune/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATION_KIND, type Activation, consumerOf } from '../../src/activations/activations.ts';
import { startActivationWorker } from '../../src/activations/worker.ts';
import { startReceiver, until } from './receiver.ts';

/**
 * The outbox does not grow for ever: the worker deletes what every activation has delivered
 * (everything, with no activation), never what one still has to deliver.
 */
describe('outbox pruning by the activation worker', () => {
  const store = createSqliteStore({ filename: ':memory:' });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let worker: ReturnType<typeof startActivationWorker>;
  const hook = (id: string, enabled = true): Activation => ({
    id,
    name: id,
    type: 'webhook',
    url: receiver.url,
    topics: ['audience.membership'],
    enabled,
    maxAttempts: 8,
    purpose: 'marketing',
    erasureConfirmation: 'delivery',
    secret: 'whsec_test',
  });
  const append = (n: number) =>
    store.transaction((tx) => tx.appendOutbox(Array.from({ length: n }, (_, i) => ({ topic: 'audience.membership', key: `k${i}`, createdAt: Date.now() - 1000, payload: { id: `e${i}`, audienceId: 'vip' } }))));
  const left = async () => (await store.outbox.read('inspector', 10_000)).length;

  beforeAll(async () => {
    await store.migrate();
    receiver = await startReceiver();
    // The host list lets the worker reach the receiver on loopback.
    worker = startActivationWorker({ store, logger: silentLogger, pollMs: 20, pruneEveryMs: 20, pruneMinAgeMs: 0, hosts: { allowHosts: ['127.0.0.1'] } });
  });
  afterAll(async () => {
    await worker.stop();
    await receiver.close();
    await store.close();
  });

  it('with no activation, deletes every entry; the tail stays where a new activation starts', async () => {
    await append(5);
    const tail = await store.outbox.tail();
    await until(left, (n) => n === 0);
    expect(await store.outbox.tail()).toBe(tail);
  });

  it('keeps what a paused activation has not delivered, and deletes what every activation has', async () => {
    const active = hook('active');
    const paused = hook('paused', false);
    for (const a of [active, paused]) {
      await store.docs.put(ACTIVATION_KIND, a.id, a, 0, Date.now());
      await store.outbox.ack(consumerOf(a.id), await store.outbox.tail());
    }
    await append(3);
    await until(() => receiver.unique().length, (n) => n >= 3);
    // Delivered to the active one, held for the paused one.
    await new Promise((r) => setTimeout(r, 200));
    expect(await left()).toBe(3);
    // Deleting the paused activation forgets its cursor: the entries can go.
    await store.docs.delete(ACTIVATION_KIND, paused.id);
    await store.outbox.dropConsumer(consumerOf(paused.id));
    await until(left, (n) => n === 0);
    expect(await store.outbox.cursor(consumerOf(active.id))).toBe(await store.outbox.tail());
  });
});
