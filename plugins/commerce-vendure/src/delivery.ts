import { AttuneRequestError, type AttuneClient, type CommerceCall } from '@attune/core';
import { type TransactionalConnection, Logger } from '@vendure/core';
import { LessThanOrEqual } from 'typeorm';
import { AttuneOutboxEntry } from './entities.ts';
import type { ResolvedOptions } from './options.ts';

const loggerCtx = 'AttunePlugin';

export interface DeliveryResult {
  sent: number;
  failed: number;
  retrying: number;
}

/**
 * Sends outbox entries to Attune's /v1/batch in id order and deletes them once acknowledged
 * (a 2xx means durable at Attune; message ids make a resend after a crash a no-op). A
 * retryable failure backs the entries off exponentially; a permanent refusal (a 4xx) is
 * narrowed to the entry at fault, which is parked as failed so the rest go on.
 */
export function createDelivery(connection: TransactionalConnection, client: AttuneClient, options: ResolvedOptions['delivery']) {
  const repo = () => connection.rawConnection.getRepository(AttuneOutboxEntry);

  async function backOff(entries: AttuneOutboxEntry[], error: string, now: number): Promise<number> {
    let parked = 0;
    for (const e of entries) {
      const attempts = e.attempts + 1;
      const failed = attempts >= options.maxAttempts;
      if (failed) parked += 1;
      const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempts - 1)) * (0.75 + Math.random() * 0.5);
      await repo().update({ id: e.id }, { attempts, failed, lastError: error.slice(0, 2000), nextAttemptAt: now + Math.round(delay) });
    }
    return parked;
  }

  async function send(entries: AttuneOutboxEntry[], now: number): Promise<DeliveryResult> {
    try {
      await client.track(entries.map((e) => JSON.parse(e.call) as CommerceCall));
      await repo().delete(entries.map((e) => e.id));
      return { sent: entries.length, failed: 0, retrying: 0 };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof AttuneRequestError && !error.retryable && entries.length > 1) {
        // One bad call refuses the whole batch: send them one by one to park only the bad one.
        const total: DeliveryResult = { sent: 0, failed: 0, retrying: 0 };
        for (const e of entries) {
          const r = await send([e], now);
          total.sent += r.sent;
          total.failed += r.failed;
          total.retrying += r.retrying;
        }
        return total;
      }
      if (error instanceof AttuneRequestError && !error.retryable) {
        await repo().update({ id: entries[0]!.id }, { attempts: entries[0]!.attempts + 1, failed: true, lastError: message.slice(0, 2000) });
        Logger.error(`Attune refused outbox entry ${entries[0]!.id}: ${message}`, loggerCtx);
        return { sent: 0, failed: 1, retrying: 0 };
      }
      const parked = await backOff(entries, message, now);
      Logger.warn(`Attune delivery failed (${entries.length} entries, will retry): ${message}`, loggerCtx);
      return { sent: 0, failed: parked, retrying: entries.length - parked };
    }
  }

  return {
    /** Sends what is due, batch by batch, until nothing is due or a batch fails. */
    async flush(now = Date.now()): Promise<DeliveryResult> {
      const total: DeliveryResult = { sent: 0, failed: 0, retrying: 0 };
      for (;;) {
        const due = await repo().find({
          where: { failed: false, nextAttemptAt: LessThanOrEqual(now) },
          order: { id: 'ASC' },
          take: options.batchSize,
        });
        if (due.length === 0) return total;
        const r = await send(due, now);
        total.sent += r.sent;
        total.failed += r.failed;
        total.retrying += r.retrying;
        if (r.retrying > 0) return total;
      }
    },
    async pending(): Promise<{ due: number; failed: number }> {
      const [due, failed] = await Promise.all([repo().count({ where: { failed: false } }), repo().count({ where: { failed: true } })]);
      return { due, failed };
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
