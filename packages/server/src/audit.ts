import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { ACCESS_PAGE_KIND, type ApiKeyRecord, type AuditLogRecord, type ConfigDocuments, type Logger, PRIVACY_REQUEST_KIND, RETENTION_PLAN_KIND, type Store } from '@attune/core';
import type { RequestHandler } from 'express';
import { roleOf } from './http/auth.ts';

/**
 * Documents never copied into the audit log: the system's own (leases), and those holding
 * personal data (privacy requests carry an erasure's identifiers until every destination
 * confirmed, access exports the person's data, retention plans lists of profiles and events):
 * an append-only log must not keep what an erasure removes. Requests writing them are recorded
 * as `request` entries.
 */
const INTERNAL_KINDS = new Set(['activation-lease', PRIVACY_REQUEST_KIND, ACCESS_PAGE_KIND, RETENTION_PLAN_KIND]);

export interface AuditActor {
  keyId: string;
  keyName: string;
  role: string;
}

/** One admin change: who, what, when, with the resource before and after. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: AuditActor;
  method: string;
  path: string;
  action: 'create' | 'update' | 'delete' | 'revoke' | 'request';
  /** The resource kind (`audience`, `experience`, `activation`, `api-key`…), or `request` for other changes. */
  kind: string;
  resourceId: string | null;
  before: unknown;
  after: unknown;
}

interface AuditContext {
  actor: AuditActor;
  method: string;
  path: string;
  recorded: boolean;
}

const context = new AsyncLocalStorage<AuditContext>();

/** Secrets and hashes never reach the audit log. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'secret' || k === 'hash' ? '[redacted]' : redact(v);
  return out;
}

function keyView(k: ApiKeyRecord | null | undefined) {
  if (!k) return null;
  return { id: k.id, kind: k.kind, name: k.name, prefix: k.prefix, scope: k.scope ?? null, revokedAt: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString() };
}

/**
 * Wraps a store so that every configuration document and key an admin request changes is
 * recorded with the acting key, the state before and after. The engine is built on the wrapped
 * store, so audiences, experiences, activations and keys are covered wherever they are changed.
 */
export function auditedStore(store: Store): Store {
  const docs = store.docs;
  async function record(ctx: AuditContext, entry: Omit<AuditEntry, 'id' | 'at' | 'actor' | 'method' | 'path'>): Promise<void> {
    const now = Date.now();
    const full: AuditEntry = { id: auditId(now), at: new Date(now).toISOString(), actor: ctx.actor, method: ctx.method, path: ctx.path, ...entry, before: redact(entry.before), after: redact(entry.after) };
    ctx.recorded = true;
    await store.audit.append([auditRecord(full, now)]);
  }
  const auditedDocs: ConfigDocuments = {
    get: (kind, id) => docs.get(kind, id),
    list: (kind) => docs.list(kind),
    async put(kind, id, body, expectedVersion, at) {
      const ctx = context.getStore();
      if (!ctx || INTERNAL_KINDS.has(kind)) return docs.put(kind, id, body, expectedVersion, at);
      const before = expectedVersion === 0 ? null : await docs.get(kind, id);
      const result = await docs.put(kind, id, body, expectedVersion, at);
      if (result) await record(ctx, { action: expectedVersion === 0 ? 'create' : 'update', kind, resourceId: id, before: before?.body ?? null, after: result.body });
      return result;
    },
    async delete(kind, id) {
      const ctx = context.getStore();
      if (!ctx || INTERNAL_KINDS.has(kind)) return docs.delete(kind, id);
      const before = await docs.get(kind, id);
      const deleted = await docs.delete(kind, id);
      if (deleted) await record(ctx, { action: 'delete', kind, resourceId: id, before: before?.body ?? null, after: null });
      return deleted;
    },
  };
  const keys: Store['keys'] = {
    list: () => store.keys.list(),
    findByHash: (hash) => store.keys.findByHash(hash),
    async put(k) {
      await store.keys.put(k);
      const ctx = context.getStore();
      if (ctx) await record(ctx, { action: 'create', kind: 'api-key', resourceId: k.id, before: null, after: keyView(k) });
    },
    async revoke(id, at) {
      const ctx = context.getStore();
      const before = ctx ? (await store.keys.list()).find((k) => k.id === id) : undefined;
      const done = await store.keys.revoke(id, at);
      if (ctx && done) {
        const after = (await store.keys.list()).find((k) => k.id === id);
        await record(ctx, { action: 'revoke', kind: 'api-key', resourceId: id, before: keyView(before), after: keyView(after) });
      }
      return done;
    },
  };
  return { ...store, docs: auditedDocs, keys };
}

/**
 * Runs an admin request in an audit context (after authentication). A change that wrote no
 * document or key (a consent change, an import) is recorded as a `request` entry when it succeeds.
 */
export function auditContext(store: Store, logger: Logger): RequestHandler {
  return (req, res, next) => {
    const key = res.locals.apiKey as ApiKeyRecord | undefined;
    if (!key || req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') {
      next();
      return;
    }
    const ctx: AuditContext = { actor: { keyId: key.id, keyName: key.name, role: roleOf(key) }, method: req.method, path: req.originalUrl.split('?')[0] ?? '', recorded: false };
    res.on('finish', () => {
      if (ctx.recorded || res.statusCode >= 400) return;
      const now = Date.now();
      const entry: AuditEntry = { id: auditId(now), at: new Date(now).toISOString(), actor: ctx.actor, method: ctx.method, path: ctx.path, action: 'request', kind: 'request', resourceId: null, before: null, after: { status: res.statusCode } };
      store.audit.append([auditRecord(entry, now)]).catch((error) => logger.error({ err: String(error) }, 'audit entry not written'));
    });
    context.run(ctx, () => next());
  };
}

/** Sorts by time: the time zero-padded, then random (two entries in one millisecond stay apart). */
function auditId(now: number): string {
  return `${now.toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}`;
}

function auditRecord(entry: AuditEntry, at: number): AuditLogRecord {
  return { id: entry.id, at, kind: entry.kind, resourceId: entry.resourceId, keyId: entry.actor.keyId, body: entry };
}

export interface AuditQuery {
  kind?: string | undefined;
  resourceId?: string | undefined;
  keyId?: string | undefined;
  since?: number | undefined;
  /** The previous page's `nextCursor`. */
  cursor?: string | undefined;
  limit: number;
}

/** Audit entries, newest first, filtered, a page at a time (`nextCursor` null on the last page). */
export async function queryAudit(store: Store, q: AuditQuery): Promise<{ entries: AuditEntry[]; nextCursor: string | null }> {
  const rows = await store.audit.list({ kind: q.kind, resourceId: q.resourceId, keyId: q.keyId, since: q.since, before: q.cursor, limit: q.limit + 1 });
  const page = rows.slice(0, q.limit);
  return { entries: page.map((r) => r.body as AuditEntry), nextCursor: rows.length > q.limit ? (page[page.length - 1]?.id ?? null) : null };
}
