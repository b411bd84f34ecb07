import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  AttuneError,
  createErasureConfirmer,
  type ErasureActivationResult,
  type ErasureConfirmer,
  type ErasureDelivery,
  ensureErasureActivation,
  erasedIdentifiers,
  fetchPort,
  type Logger,
  readErasureDelivery,
  type WebhookHeaders,
} from '@attune/core';
import type { Core } from '@strapi/strapi';
import { parsePluginConfig } from '../config.ts';
import { ERASURE_NOTICE_UID, OUTBOX_UID } from '../content-types/index.ts';
import { USER_UID } from './schemas.ts';
import type { SettingsService } from './settings.ts';

/** The content-API path of the endpoint (Strapi serves plugin routes under /api/<plugin>). */
export const ERASURE_ROUTE = '/erasure';
const MAX_BODY = 1024 * 1024;

/** What one erasure deleted in Strapi (the receipt's `details`). */
export interface ErasureCounts {
  /** users-permissions accounts of the person found here. */
  users: number;
  /** Of those, deleted (only with `erasure.deleteUsers`). */
  usersDeleted: number;
  /** Outbox rows about the person (their account changes and deletions waiting for the next export). */
  outboxEntries: number;
}

export interface ErasureOutcome {
  status: 'erased' | 'duplicate';
  requestId: string | null;
  details: ErasureCounts;
}

interface NoticeRow {
  id: number;
  webhookId: string;
  requestId: string | null;
  details: ErasureCounts;
  confirmedAt: string | null;
}

export function erasurePath(strapi: Core.Strapi): string {
  return `${String(strapi.config.get('api.rest.prefix', '/api')).replace(/\/+$/, '')}/attune${ERASURE_ROUTE}`;
}

/**
 * Keeps the exact bytes of an erasure notice (the signature covers them). Registered before the
 * app's body parser, which then has nothing left to read: the content type is set to one it
 * does not parse.
 */
export function rawBodyMiddleware(strapi: Core.Strapi) {
  return async (ctx: { method: string; path: string; req: IncomingMessage; state: Record<string, unknown>; status: number; body: unknown }, next: () => Promise<unknown>) => {
    if (ctx.method !== 'POST' || ctx.path !== erasurePath(strapi)) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) {
        ctx.status = 413;
        ctx.body = { error: { status: 413, name: 'PayloadTooLargeError', message: `erasure notice over ${MAX_BODY} bytes` } };
        return undefined;
      }
      chunks.push(chunk);
    }
    ctx.state.attuneRawBody = Buffer.concat(chunks).toString('utf8');
    ctx.req.headers['content-type'] = 'application/vnd.attune.raw';
    return next();
  };
}

function logger(strapi: Core.Strapi): Logger {
  const line = (o: object, m?: string) => `[attune] ${m ?? ''} ${JSON.stringify(o)}`;
  return {
    debug: (o, m) => strapi.log.debug(line(o, m)),
    info: (o, m) => strapi.log.info(line(o, m)),
    warn: (o, m) => strapi.log.warn(line(o, m)),
    error: (o, m) => strapi.log.error(line(o, m)),
  };
}

/**
 * The destination side of Attune's downstream-erasure protocol: what Strapi holds because of
 * Attune is the outbox rows about a user (account changes waiting for the next users export,
 * deleted users' ids and emails). The users-permissions account is the app's own record and is
 * deleted only with `erasure.deleteUsers`.
 */
export function createErasureService(strapi: Core.Strapi, deps: { settings: SettingsService }) {
  const config = () => parsePluginConfig(strapi.config.get('plugin::attune')).erasure;
  const secretStore = () => strapi.store({ type: 'plugin', name: 'attune', key: 'erasure' });
  const notices = () => strapi.db.query(ERASURE_NOTICE_UID);
  const inFlight = new Set<string>();
  const fetchAttune = fetchPort(fetch, (ms) => AbortSignal.timeout(ms));

  async function secret(): Promise<string> {
    const c = config();
    if (c.secret) return c.secret;
    const stored = (await secretStore().get({})) as { secret?: string } | null;
    return stored?.secret ?? '';
  }

  async function confirmer(): Promise<ErasureConfirmer> {
    const s = await deps.settings.get();
    const c = config();
    return createErasureConfirmer({
      url: s.engineUrl,
      secretKey: s.secretKey,
      activationId: c.activationId,
      fetch: fetchAttune,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()),
      logger: logger(strapi),
      attempts: c.confirmAttempts,
      baseDelayMs: c.confirmBaseDelayMs,
    });
  }

  async function erase(delivery: ErasureDelivery): Promise<ErasureCounts> {
    const ids = erasedIdentifiers(delivery.notice);
    const counts: ErasureCounts = { users: 0, usersDeleted: 0, outboxEntries: 0 };
    const or: Record<string, unknown>[] = [];
    if (ids.emails.length > 0) or.push({ email: { $in: ids.emails } });
    // The users export identifies a user by their documentId.
    if (ids.userIds.length > 0) or.push({ documentId: { $in: ids.userIds } });
    const users = or.length > 0 ? ((await strapi.db.query(USER_UID).findMany({ where: { $or: or }, select: ['id', 'documentId', 'email'] })) as { id: number; documentId: string }[]) : [];
    counts.users = users.length;
    if (config().deleteUsers) {
      for (const u of users) {
        await strapi.plugin('users-permissions').service('user').remove({ id: u.id });
        counts.usersDeleted += 1;
      }
    }
    // After the deletes, which add outbox rows of their own.
    const documentIds = new Set([...ids.userIds, ...users.map((u) => u.documentId)]);
    const rows = (await strapi.db.query(OUTBOX_UID).findMany({ where: { target: USER_UID }, select: ['id', 'entryId', 'payload'] })) as { id: number; entryId: string; payload?: { email?: unknown } | null }[];
    const doomed = rows.filter((r) => documentIds.has(r.entryId) || (typeof r.payload?.email === 'string' && ids.emails.includes(r.payload.email.trim().toLowerCase())));
    if (doomed.length > 0) await strapi.db.query(OUTBOX_UID).deleteMany({ where: { id: { $in: doomed.map((r) => r.id) } } });
    counts.outboxEntries = doomed.length;
    return counts;
  }

  function confirmLater(row: Pick<NoticeRow, 'id' | 'requestId' | 'details'>): void {
    if (!row.requestId || inFlight.has(String(row.id))) return;
    const requestId = row.requestId;
    inFlight.add(String(row.id));
    void confirmer()
      .then((c) => c.confirm(requestId, { ...row.details }))
      .then(async (outcome) => {
        // `unknown`: Attune no longer has the request or this target; nothing will ever be owed.
        // Every notice of the request (a resend after a failed confirmation) is settled by one confirmation.
        if (outcome.status !== 'failed') await notices().updateMany({ where: { requestId, confirmedAt: { $null: true } }, data: { confirmedAt: new Date() } });
      })
      .catch((e) => strapi.log.error(`[attune] erasure confirmation for ${requestId} failed: ${String(e)}`))
      .finally(() => inFlight.delete(String(row.id)));
  }

  return {
    erasurePath: () => erasurePath(strapi),

    /** Verifies, deletes once per webhook-id, and confirms to Attune in the background. */
    async handle(headers: WebhookHeaders, body: string): Promise<ErasureOutcome | { status: 'ignored'; reason: string }> {
      const key = await secret();
      if (!key) throw new AttuneError('NOT_FOUND', 'erasure notices are not enabled: set erasure.endpointUrl (registers the activation) or erasure.secret in config/plugins');
      const delivery = readErasureDelivery({
        headers,
        body,
        now: Math.floor(Date.now() / 1000),
        toleranceSec: config().toleranceSec,
        sign: (content) => createHmac('sha256', Buffer.from(key.slice('whsec_'.length), 'base64')).update(content).digest('base64'),
      });
      if (!delivery) return { status: 'ignored', reason: 'not an erasure notice' };
      const requestId = delivery.notice.requestId;
      const seen = (await notices().findOne({ where: { webhookId: delivery.webhookId } })) as NoticeRow | null;
      if (seen) {
        if (!seen.confirmedAt) confirmLater(seen);
        return { status: 'duplicate', requestId, details: seen.details };
      }
      const details = await erase(delivery);
      const row = (await notices().create({
        data: { webhookId: delivery.webhookId, requestId, details, receivedAt: new Date(), confirmedAt: requestId ? null : new Date() },
      })) as NoticeRow;
      strapi.log.info(`[attune] erasure ${requestId ?? delivery.notice.id}: ${JSON.stringify(details)}`);
      confirmLater(row);
      return { status: 'erased', requestId, details };
    },

    /** Registers the activation at Attune when `erasure.endpointUrl` is set; keeps the secret shown at creation. */
    async register(): Promise<ErasureActivationResult | null> {
      const c = config();
      if (!c.endpointUrl) return null;
      const s = await deps.settings.get();
      const result = await ensureErasureActivation({
        url: s.engineUrl,
        secretKey: s.secretKey,
        fetch: fetchAttune,
        activation: { id: c.activationId, name: 'Strapi (erasure)', url: c.endpointUrl },
      });
      if (result.status === 'created') await secretStore().set({ value: { activationId: c.activationId, secret: result.secret } });
      else if (!(await secret())) {
        strapi.log.error(`[attune] activation "${c.activationId}" exists at Attune but this app does not have its secret: set erasure.secret, or delete the activation at Attune to let the plugin register it again`);
      }
      return result;
    },

    /** Confirmations owed from before a restart. */
    async confirmOwed(): Promise<number> {
      const owed = (await notices().findMany({ where: { confirmedAt: { $null: true }, requestId: { $notNull: true } } })) as NoticeRow[];
      for (const row of owed) confirmLater(row);
      return owed.length;
    },
  };
}

export type ErasureService = ReturnType<typeof createErasureService>;
