import { silentLogger } from '@attune/core';
import { createSqliteStore } from '@attune/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATION_KIND, type Activation, consumerOf } from '../../src/activations/activations.ts';
import { startActivationWorker } from '../../src/activations/worker.ts';
import { createGuardedFetch, type HostLookup } from '../../src/decisions/fetch.ts';
import { until } from './receiver.ts';

/**
 * The webhook worker under the connectors' guard, with names answered by a scripted resolver (a
 * stand-in for a DNS server, which cannot run here): a receiver whose name resolves to an
 * internal address is never called, and its entry is parked at once with the reason.
 */
describe('webhook delivery to a name that resolves inside', () => {
  const store = createSqliteStore({ filename: ':memory:' });
  const asked: string[] = [];
  const lookup: HostLookup = (hostname, callback) => {
    asked.push(hostname);
    callback(null, [{ address: hostname === 'metadata.example.com' ? '169.254.169.254' : '10.0.0.8', family: 4 }]);
  };
  let worker: ReturnType<typeof startActivationWorker>;
  beforeAll(async () => {
    await store.migrate();
    worker = startActivationWorker({ store, logger: silentLogger, pollMs: 20, fetch: createGuardedFetch({}, { lookup, label: 'webhooks' }) });
  });
  afterAll(async () => {
    await worker.stop();
    await store.close();
  });

  it('parks the entry at the first refusal, with the reason, and calls nothing', async () => {
    const a: Activation = {
      id: 'meta',
      name: 'Looks public',
      type: 'webhook',
      url: 'http://metadata.example.com/latest/meta-data',
      topics: ['test'],
      enabled: true,
      maxAttempts: 8,
      purpose: 'marketing',
      erasureConfirmation: 'delivery',
      secret: 'whsec_test',
    };
    await store.docs.put(ACTIVATION_KIND, a.id, a, 0, Date.now());
    await store.transaction((tx) => tx.appendOutbox([{ topic: 'test', key: a.id, createdAt: Date.now(), payload: { id: 't1', activationId: a.id } }]));
    const letters = await until(
      () => store.outbox.listDeadLetters(consumerOf(a.id)),
      (l) => l.length > 0,
    );
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ attempts: 1, error: 'the host resolves to an internal address' });
    expect(asked).toEqual(['metadata.example.com']);
    expect(worker.retryState(a.id)).toBeNull();
  });
});
