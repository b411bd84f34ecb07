import { randomUUID } from 'node:crypto';
import { type Fetch, FetchError, type Logger, MEMBERSHIP_TOPIC, type OutboxEntry, PROFILE_ERASED_TOPIC, type PrivacyService, type Store } from '@attune/core';
import { type ConnectorHostPolicy, createGuardedFetch, refusedUrl } from '../decisions/fetch.ts';
import { type Activation, consumerOf, deliveryId, listActivations, signWebhook, wants } from './activations.ts';

export interface ActivationWorkerOptions {
  store: Store;
  logger: Logger;
  /** How often the outbox is polled (other nodes write to it too). Default 500 ms. */
  pollMs?: number;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** First retry delay; doubles per attempt, with jitter, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long a node holds an activation's delivery lease. Default 30 s. */
  leaseMs?: number;
  /** Consent checks per destination purpose, erasure receipts and resends. */
  privacy?: PrivacyService;
  /** Erasure notices not confirmed after this long are sent again. Default 1 hour. */
  erasureResendMs?: number;
  /**
   * Where webhooks may go, as for connectors: any public host when `allowHosts` is absent, only
   * the listed ones when set; an internal address (loopback, private network, cloud metadata)
   * only when its host is listed (ATTUNE_WEBHOOK_HOSTS of `attune start`).
   */
  hosts?: ConnectorHostPolicy;
  /** How deliveries are sent. Default: the connectors' guarded fetch under `hosts`. */
  fetch?: Fetch;
  /**
   * How often entries every activation has acknowledged are deleted from the outbox (all of
   * them when there is no activation: a new one starts at the tail). Default 1 minute.
   */
  pruneEveryMs?: number;
  /** Entries younger than this are never pruned: an activation being created meanwhile still gets them. Default 1 minute. */
  pruneMinAgeMs?: number;
}

/** Largest answer body read from a webhook receiver (the rest is not read). */
const MAX_ANSWER_BYTES = 64 * 1024;

interface RetryState {
  seq: number;
  attempts: number;
  nextAt: number;
  lastError: string;
}

const LEASE_KIND = 'activation-lease';

/**
 * Delivers outbox entries to webhook activations, in order per activation, at least once:
 * the cursor moves only after a 2xx, so a crash redelivers the entry in flight, with the same
 * `webhook-id` for the receiver to deduplicate. Failures retry with exponential backoff and
 * jitter; after `maxAttempts` the entry is parked in the dead-letter list and delivery goes on.
 * With several nodes on one database, a lease (a versioned document) lets one node deliver
 * for a given activation at a time.
 */
export function startActivationWorker(options: ActivationWorkerOptions) {
  const { store, logger } = options;
  const node = randomUUID();
  const pollMs = options.pollMs ?? 500;
  const retries = new Map<string, RetryState>();
  const hosts = options.hosts ?? {};
  const send = options.fetch ?? createGuardedFetch(hosts, { label: 'webhooks' });
  let stopped = false;
  let running: Promise<void> | null = null;

  async function holdLease(activationId: string): Promise<boolean> {
    const now = Date.now();
    const lease = await store.docs.get(LEASE_KIND, activationId);
    const body = (lease?.body ?? null) as { node: string; until: number } | null;
    if (body && body.node !== node && body.until > now) return false;
    const next = { node, until: now + (options.leaseMs ?? 30_000) };
    return (await store.docs.put(LEASE_KIND, activationId, next, lease?.version ?? 0, now)) !== null;
  }

  /** The entry's payload, with the profile traits the activation asked for, as its purpose may see them. */
  async function payloadFor(a: Activation, e: OutboxEntry): Promise<unknown> {
    if (e.topic !== MEMBERSHIP_TOPIC || !a.traits?.length || !options.privacy) return e.payload;
    const payload = e.payload as { profileId?: string };
    if (typeof payload.profileId !== 'string') return e.payload;
    const traits = await options.privacy.traitsFor(payload.profileId, a.traits, a.purpose ?? 'marketing');
    return traits ? { ...payload, traits } : e.payload;
  }

  async function post(a: Activation, e: OutboxEntry): Promise<void> {
    const id = deliveryId(a.id, e);
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: e.topic, timestamp: new Date(e.createdAt).toISOString(), data: await payloadFor(a, e) });
    const res = await send({
      url: a.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'attune-webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(a.secret, id, timestamp, body),
      },
      body,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxBytes: MAX_ANSWER_BYTES,
    });
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
  }

  /** A visitor who has not granted the destination's purpose is never sent to it (exits of erased profiles still go). */
  async function purposeAllows(a: Activation, e: OutboxEntry): Promise<boolean> {
    if (!options.privacy || e.topic !== MEMBERSHIP_TOPIC) return true;
    const payload = e.payload as { profileId?: string; change?: string };
    if (typeof payload.profileId !== 'string') return true;
    const allowed = await options.privacy.allows(payload.profileId, a.purpose ?? 'marketing');
    return allowed === null ? payload.change === 'exited' : allowed;
  }

  async function noticeDelivered(a: Activation, e: OutboxEntry): Promise<void> {
    if (!options.privacy || e.topic !== PROFILE_ERASED_TOPIC) return;
    const requestId = (e.payload as { requestId?: unknown }).requestId;
    if (typeof requestId === 'string') await options.privacy.noticeDelivered(requestId, `activation:${a.id}`);
  }

  async function deliverFor(a: Activation): Promise<void> {
    const consumer = consumerOf(a.id);
    for (;;) {
      const entries = await store.outbox.read(consumer, 100);
      if (entries.length === 0) return;
      for (const e of entries) {
        if (stopped) return;
        if (!wants(a, e)) {
          await store.outbox.ack(consumer, e.seq);
          continue;
        }
        if (!(await purposeAllows(a, e))) {
          await store.outbox.ack(consumer, e.seq);
          continue;
        }
        const retry = retries.get(a.id);
        if (retry && retry.seq === e.seq && retry.nextAt > Date.now()) return;
        try {
          await post(a, e);
          retries.delete(a.id);
          await store.outbox.ack(consumer, e.seq);
          await noticeDelivered(a, e);
        } catch (error) {
          const attempts = (retry?.seq === e.seq ? retry.attempts : 0) + 1;
          const message = error instanceof Error ? error.message : String(error);
          // A host the policy refuses stays refused until the configuration changes: the entry is
          // parked at once (replay it after listing the host) instead of retried.
          const refused = error instanceof FetchError && error.code === 'FORBIDDEN';
          if (attempts >= a.maxAttempts || refused) {
            await store.outbox.deadLetter({ consumer, entry: e, error: message, attempts, at: Date.now() });
            await store.outbox.ack(consumer, e.seq);
            retries.delete(a.id);
            logger.warn({ activation: a.id, seq: e.seq, attempts, error: message }, 'webhook delivery dead-lettered');
            continue;
          }
          const base = options.baseDelayMs ?? 1000;
          const delay = Math.min(options.maxDelayMs ?? 300_000, base * 2 ** (attempts - 1)) * (0.75 + Math.random() * 0.5);
          retries.set(a.id, { seq: e.seq, attempts, nextAt: Date.now() + delay, lastError: message });
          logger.info({ activation: a.id, seq: e.seq, attempts, retryInMs: Math.round(delay), error: message }, 'webhook delivery failed; will retry');
          return;
        }
      }
    }
  }

  let lastResend = 0;
  let lastPrune = 0;
  async function tick(): Promise<void> {
    const resendMs = options.erasureResendMs ?? 3600_000;
    if (options.privacy && Date.now() - lastResend >= Math.min(resendMs, 60_000)) {
      lastResend = Date.now();
      const n = await options.privacy.resendUnconfirmed(resendMs);
      if (n > 0) logger.info({ resent: n }, 'unconfirmed erasure notices sent again');
    }
    for (const a of await listActivations(store)) {
      if (stopped) return;
      if (!a.enabled) continue;
      try {
        if (await holdLease(a.id)) await deliverFor(a);
      } catch (error) {
        logger.error({ activation: a.id, err: String(error) }, 'activation delivery failed');
      }
    }
    if (!stopped && Date.now() - lastPrune >= (options.pruneEveryMs ?? 60_000)) {
      lastPrune = Date.now();
      // Listed again now: an activation created during the deliveries above holds its entries.
      // A paused one keeps its backlog too.
      const consumers = (await listActivations(store)).map((a) => consumerOf(a.id));
      const pruned = await store.outbox.prune(consumers, Date.now() - (options.pruneMinAgeMs ?? 60_000));
      if (pruned > 0) logger.info({ pruned, activations: consumers.length }, 'outbox entries every activation has acknowledged deleted');
    }
  }

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = tick().finally(() => {
      running = null;
    });
  }, pollMs);
  timer.unref();

  return {
    /** Why a webhook URL may not be called under the host policy (checked when an activation is saved), or null. */
    refusedUrl: (url: string) => refusedUrl(url, hosts, 'webhooks'),
    /** Delivers a dead letter again now; on failure it is parked again. */
    async replay(a: Activation, letterId: string): Promise<'delivered' | 'failed' | 'missing'> {
      const letter = await store.outbox.takeDeadLetter(consumerOf(a.id), letterId);
      if (!letter) return 'missing';
      try {
        await post(a, letter.entry);
        return 'delivered';
      } catch (error) {
        await store.outbox.deadLetter({ ...letter, error: String(error instanceof Error ? error.message : error), attempts: letter.attempts + 1, at: Date.now() });
        return 'failed';
      }
    },
    retryState: (activationId: string) => retries.get(activationId) ?? null,
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

export type ActivationWorker = ReturnType<typeof startActivationWorker>;
