import { createHmac, randomFillSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AttuneError, type Clock, type ConsentConfigInput, createEngine, createIdGenerator, type Engine, type FieldPoliciesInput, type Logger, type RetentionPolicyInput, type Store } from '@attune/core';
import { createSqliteStore } from '@attune/storage-sqlite';
import { startActivationWorker } from './activations/worker.ts';
import { createApp } from './app.ts';
import { auditedStore } from './audit.ts';
import { checkEncryptionKeys, createFieldCipher, parseEncryptionKeys } from './field-cipher.ts';
import type { RateLimitOptions } from './http/rate-limit.ts';
import { createApiKey, ensureKey } from './keys.ts';
import { createLogger } from './logger.ts';

export interface StartServerOptions {
  /**
   * The engine's clock (default: the system clock). Tests and previews pass a controllable one
   * to decide "as of" a given time.
   */
  clock?: Clock;
  /** Default 4000; 0 picks a free port. */
  port?: number;
  /** Default: every interface. */
  host?: string;
  /** Directory of the embedded store (`attune.db`); default `./.attune`. */
  dataDir?: string;
  /** PostgreSQL connection string; when set, the PostgreSQL store is used instead. */
  databaseUrl?: string;
  /** A secret key to accept (ATTUNE_SECRET_KEY); registered if the store lacks it. */
  secretKey?: string;
  /** A write key to accept (ATTUNE_WRITE_KEY); registered if the store lacks it. */
  writeKey?: string;
  logger?: Logger;
  /** Extra identifier types (CRM id, loyalty card) used in identity resolution and lookups. */
  externalIds?: string[];
  rateLimit?: RateLimitOptions;
  /** Express's `trust proxy`: set it (e.g. 1) behind a load balancer so rate limits see client addresses. */
  trustProxy?: boolean | number | string | string[];
  /** How often due audience exits are processed and definitions reloaded (other nodes may change them). Default 1 s. */
  audienceCheckMs?: number;
  /** How often queued recommendation counters are added to the recommendation tables. Default 1 s. */
  recommendFoldMs?: number;
  /** How often webhook activations poll the outbox. Default 500 ms. */
  activationPollMs?: number;
  /** First webhook retry delay (doubles per attempt). Default 1 s. */
  webhookBaseDelayMs?: number;
  /** Longest wait for in-flight requests in close() before connections are cut. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** Retention per event name and for inactive anonymous profiles, run every `everyMs` (default daily). */
  retention?: RetentionPolicyInput & { everyMs?: number };
  /** Hosts connectors may call (default: any public host; internal addresses only when listed). */
  connectorHosts?: { allowHosts?: string[] };
  /** Hosts webhook activations may call, with the same rule as `connectorHosts`. */
  webhookHosts?: { allowHosts?: string[] };
  /** Browser origins allowed to call the admin API. */
  adminOrigins?: string[];
  privacy?: {
    /** Purposes, the unknown-consent default and the per-event, per-field policy. */
    consent?: ConsentConfigInput;
    /**
     * Key of the HMAC-SHA256 that hashes fields and suppressed identifiers (ATTUNE_HASH_KEY). Keep
     * it outside the database: without it the hashes cannot be matched to a person.
     */
    hashKey?: string;
    /**
     * AES-256-GCM key(s) for encrypted fields (ATTUNE_ENCRYPTION_KEY): the base64 of 32 bytes,
     * optionally `<kid>:` before it; several comma-separated, the first encrypting (rotation).
     */
    encryptionKey?: string;
    /**
     * Traits and properties stored hashed or encrypted (`{ 'traits.email': { policy: 'encrypt',
     * purposes: ['marketing'] } }`), decrypted only for access exports and activations of a listed purpose.
     */
    fields?: FieldPoliciesInput;
    /** How long an erased profile's identifiers are refused at ingestion. Default 30 days. */
    suppressForMs?: number;
    /** Erasure notices not confirmed after this long are sent again. Default 1 hour. */
    erasureResendMs?: number;
  };
  /** How long recommendations reuse popular, trending and per-category lists. Default 5 minutes. */
  recommendCacheMs?: number;
}

export interface StartedServer {
  url: string;
  port: number;
  store: Store;
  engine: Engine;
  /** Keys made because the store had none: show them once, they cannot be read back. */
  generatedKeys: { secret?: string; write?: string };
  /** Stops accepting, finishes in-flight requests, commits what was accepted, closes the store. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 4000;

/** The store `attune start` opens for these settings: PostgreSQL when databaseUrl is set, else the embedded file. */
export async function openStore(options: Pick<StartServerOptions, 'dataDir' | 'databaseUrl'>): Promise<Store> {
  if (options.databaseUrl) {
    const { createPostgresStore } = await import('@attune/storage-postgres');
    return createPostgresStore({ connectionString: options.databaseUrl });
  }
  return createSqliteStore({ filename: join(options.dataDir ?? './.attune', 'attune.db') });
}

/** HMAC-SHA256, hex: the engine's hasher for hashed fields and suppressed identifiers. */
export function hmacHasher(key: string): (value: string) => string {
  return (value) => createHmac('sha256', key).update(value).digest('hex');
}

/** Math.random's shape, from the OS's CSPRNG, a pooled buffer at a time. */
function cryptoRandom(): () => number {
  const pool = new Uint8Array(4096);
  let next = pool.length;
  return () => {
    if (next >= pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 256;
  };
}

async function prepareKeys(store: Store, options: StartServerOptions, logger: Logger): Promise<StartedServer['generatedKeys']> {
  if (options.secretKey) {
    const record = await ensureKey(store, 'secret', options.secretKey, 'ATTUNE_SECRET_KEY');
    if (record.revokedAt !== null) logger.warn({ keyId: record.id }, 'the configured secret key was revoked and is refused');
    if (options.secretKey.length < 16) logger.warn({ keyId: record.id }, 'the configured secret key is shorter than 16 characters');
  }
  if (options.writeKey) {
    const record = await ensureKey(store, 'write', options.writeKey, 'ATTUNE_WRITE_KEY');
    if (record.revokedAt !== null) logger.warn({ keyId: record.id }, 'the configured write key was revoked and is refused');
  }
  const keys = await store.keys.list();
  const generated: StartedServer['generatedKeys'] = {};
  if (!keys.some((k) => k.kind === 'secret' && k.revokedAt === null)) {
    generated.secret = (await createApiKey(store, { kind: 'secret', name: 'generated at first start' })).key;
  }
  if (!keys.some((k) => k.kind === 'write' && k.revokedAt === null)) {
    generated.write = (await createApiKey(store, { kind: 'write', name: 'generated at first start' })).key;
  }
  return generated;
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlHost(host: string | undefined): string {
  if (host === undefined || host === '' || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Opens the store, migrates it, makes sure keys exist and starts listening. Handle signals in
 * the host (the CLI): SIGTERM should call `close()`.
 */
export async function startServer(options: StartServerOptions = {}): Promise<StartedServer> {
  const logger = options.logger ?? createLogger({ level: process.env.ATTUNE_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info' });
  const raw = await openStore(options);
  // Admin changes (configuration documents, keys) are recorded in the audit log.
  const store = auditedStore(raw);
  try {
    await store.migrate();
    const clock: Clock = options.clock ?? { now: () => Date.now(), defer: (fn) => setImmediate(fn) };
    const hashKey = options.privacy?.hashKey ?? process.env.ATTUNE_HASH_KEY;
    if (hashKey === undefined) logger.warn({}, 'ATTUNE_HASH_KEY is not set: hashed fields and suppressed identifiers use a well-known key');
    const encryptionKey = options.privacy?.encryptionKey ?? process.env.ATTUNE_ENCRYPTION_KEY;
    const cipher = encryptionKey === undefined ? undefined : createFieldCipher(parseEncryptionKeys(encryptionKey));
    if (cipher) await checkEncryptionKeys(store, cipher, logger);
    const engine = createEngine({
      store,
      clock,
      logger,
      newId: createIdGenerator(clock, cryptoRandom()),
      ...(options.externalIds ? { identity: { externalIds: options.externalIds } } : {}),
      ...(options.retention ? { retention: retentionPolicy(options.retention) } : {}),
      privacy: {
        ...(options.privacy?.consent ? { consent: options.privacy.consent } : {}),
        ...(options.privacy?.suppressForMs !== undefined ? { suppressForMs: options.privacy.suppressForMs } : {}),
        ...(options.privacy?.fields ? { fields: options.privacy.fields } : {}),
        ...(cipher ? { cipher } : {}),
        hash: hmacHasher(hashKey ?? 'attune-default-hash-key'),
      },
      ...(options.recommendCacheMs !== undefined ? { recommendCacheMs: options.recommendCacheMs } : {}),
    });
    const blind = engine.identity.blindIndex;
    if (blind && hashKey === undefined) {
      // A protected identifier is matched by its HMAC: under a well-known key, anyone holding the
      // database could recompute it for a list of guessed emails or phones.
      const message = `ATTUNE_HASH_KEY is not set: privacy.fields protects the identifier${blind.types.length > 1 ? 's' : ''} ${blind.types.join(', ')}, kept as a keyed hash of the value (a blind index); with the well-known default key anyone holding the database could recompute it for a guessed value. Set ATTUNE_HASH_KEY (server option privacy.hashKey) to a secret`;
      throw new AttuneError('VALIDATION', message, { issues: [{ path: 'ATTUNE_HASH_KEY', message }] });
    }
    const generatedKeys = await prepareKeys(store, options, logger);
    await engine.audiences.reload();
    await engine.decisions.reload();

    const activations = startActivationWorker({ store, logger, privacy: engine.privacy, ...(options.webhookHosts ? { hosts: options.webhookHosts } : {}), ...(options.privacy?.erasureResendMs !== undefined ? { erasureResendMs: options.privacy.erasureResendMs } : {}), ...(options.activationPollMs ? { pollMs: options.activationPollMs } : {}), ...(options.webhookBaseDelayMs !== undefined ? { baseDelayMs: options.webhookBaseDelayMs } : {}) });
    let closing = false;
    const app = createApp({
      activations,
      clock,
      engine,
      store,
      logger,
      isClosing: () => closing,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
      ...(options.connectorHosts ? { connectorHosts: options.connectorHosts } : {}),
      ...(options.adminOrigins ? { adminOrigins: options.adminOrigins } : {}),
    });
    const server = createServer(app);
    await listen(server, options.port ?? DEFAULT_PORT, options.host);
    const port = (server.address() as AddressInfo).port;
    const url = `http://${urlHost(options.host)}:${port}`;
    logger.info({ url, store: store.kind }, 'attune is listening');
    const audienceLoop = startAudienceLoop(engine, logger, options.audienceCheckMs ?? 1000);
    const recommendLoop = startRecommendLoop(engine, logger, options.recommendFoldMs ?? 1000);
    const retentionLoop = options.retention ? startRetentionLoop(engine, store, logger, options.retention.everyMs ?? 24 * 3600_000) : null;

    let closed: Promise<void> | undefined;
    const close = () => {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive connections go as soon as their current request is answered.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const cut = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs ?? 10_000);
        server.closeIdleConnections();
        try {
          await stopped;
        } finally {
          clearInterval(sweep);
          clearTimeout(cut);
        }
        await audienceLoop.stop();
        await retentionLoop?.stop();
        await recommendLoop.stop();
        await activations.stop();
        await engine.drain();
        // The queue is durable; folding it now just spares the next start the work.
        await engine.recommendations.fold().catch((error) => logger.error({ err: String(error) }, 'recommendation fold failed'));
        await store.close();
        logger.info({}, 'attune stopped');
      })();
      return closed;
    };
    return { url, port, store, engine, generatedKeys, close };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

/**
 * Runs `tick` every `everyMs`, one tick at a time; a failed tick is logged and retried on the
 * next. `stop()` waits for a running tick.
 */
function startLoop(everyMs: number, tick: () => Promise<void>, onError: (error: unknown) => void): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch(onError)
      .finally(() => {
        running = null;
      });
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Processes timed audience exits as they fall due, and picks up audience definitions changed
 * by other nodes.
 */
function startAudienceLoop(engine: Engine, logger: Logger, everyMs: number): { stop(): Promise<void> } {
  let ticks = 0;
  return startLoop(
    everyMs,
    async () => {
      if (ticks++ % 5 === 0) {
        await engine.audiences.reload();
        // Decision configuration changed on another node, and bandits due for new weights.
        await engine.decisions.reload();
        await engine.decisions.reweightBandits();
      }
      const checked = await engine.audiences.runDueChecks();
      if (checked > 0) logger.debug({ checked }, 'audience checks processed');
    },
    (error) => logger.error({ err: String(error) }, 'audience checks failed'),
  );
}

/** Adds the recommendation counters ingestion queued (on this node or another) to the tables. */
function startRecommendLoop(engine: Engine, logger: Logger, everyMs: number): { stop(): Promise<void> } {
  return startLoop(
    everyMs,
    async () => {
      const { rows, invalid } = await engine.recommendations.fold();
      if (invalid > 0) logger.error({ invalid }, 'recommendation queue rows could not be decoded and were skipped');
      if (rows > 0) logger.debug({ rows }, 'recommendation counters folded');
    },
    (error) => logger.error({ err: String(error) }, 'recommendation fold failed'),
  );
}

function retentionPolicy(input: RetentionPolicyInput & { everyMs?: number }): RetentionPolicyInput {
  const { everyMs: _every, ...policy } = input;
  return policy;
}

const RETENTION_LEASE = 'retention-lease';

/**
 * The scheduled retention job: a dry run, logged, then exactly it applied. With several nodes
 * on one database a lease (a versioned document) lets one node run it per period.
 */
function startRetentionLoop(engine: Engine, store: Store, logger: Logger, everyMs: number): { stop(): Promise<void> } {
  const tick = async () => {
    const now = Date.now();
    const lease = await store.docs.get(RETENTION_LEASE, 'job');
    const last = (lease?.body as { at?: number } | undefined)?.at ?? 0;
    if (now - last < everyMs) return;
    if (!(await store.docs.put(RETENTION_LEASE, 'job', { at: now }, lease?.version ?? 0, now))) return;
    const { plan, result } = await engine.retention.run();
    logger.info({ plan: plan.id, listedEvents: plan.events.length, listedProfiles: plan.profiles.length, ...result }, 'retention applied');
  };
  return startLoop(Math.min(everyMs, 60_000), tick, (error) => logger.error({ err: String(error) }, 'retention job failed'));
}
