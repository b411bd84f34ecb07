import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApiKeyKind, type ApiKeyRecord, type ApiKeyRole, AttuneError, isAttuneError, type Store } from '@attune/core';
import type { Request, RequestHandler, Response } from 'express';
import { hashKey } from '../keys.ts';

/**
 * Resolves presented keys to their records with a short in-memory cache, so the tracking
 * path does no database round trip per request. A revocation through this process clears
 * the cache at once; other nodes see it within `ttlMs`.
 */
export interface KeyResolver {
  resolve(key: string): Promise<ApiKeyRecord | null>;
  invalidate(): void;
}

interface CacheEntry {
  record: ApiKeyRecord | null;
  expires: number;
}

const MAX_CACHED = 10_000;

export function createKeyResolver(store: Store, ttlMs = 1000): KeyResolver {
  const cache = new Map<string, CacheEntry>();
  const pending = new Map<string, Promise<ApiKeyRecord | null>>();
  return {
    async resolve(key) {
      // Keyed by the presented key: a hit costs no SHA-256 (the key is in this process's memory for the request anyway).
      const now = Date.now();
      const hit = cache.get(key);
      if (hit && hit.expires > now) return hit.record;
      const hash = hashKey(key);
      let lookup = pending.get(hash);
      if (!lookup) {
        lookup = store.keys.findByHash(hash).finally(() => pending.delete(hash));
        pending.set(hash, lookup);
      }
      const record = await lookup;
      // Unknown keys are cached too, so a client retrying with a wrong key costs no query.
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(key, { record, expires: Date.now() + ttlMs });
      return record;
    },
    invalidate() {
      cache.clear();
    },
  };
}

/** The key in `Authorization` (Basic with the key as user name, or Bearer), if any. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return undefined;
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const value = space === -1 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer' && value !== '') return value;
  if (scheme === 'basic' && value !== '') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon === -1 ? decoded : decoded.slice(0, colon);
    // Some clients put the key in the password; Segment's put it in the user name.
    const key = user !== '' ? user : colon === -1 ? '' : decoded.slice(colon + 1);
    if (key !== '') return key;
  }
  throw new AttuneError('UNAUTHENTICATED', 'Authorization header is malformed; send Basic <base64(key:)> or Bearer <key>');
}

export function authenticatedKey(res: Response): ApiKeyRecord | undefined {
  return res.locals.apiKey as ApiKeyRecord | undefined;
}

/** Checks a presented key; throws 401 for a missing, unknown or revoked key, 403 for the wrong kind. */
export async function authenticate(
  resolver: KeyResolver,
  key: string | undefined,
  kinds: readonly ApiKeyKind[],
  missingHint: string,
  /** The request's Origin header: public keys restricted to origins refuse others. */
  origin?: string | undefined,
): Promise<ApiKeyRecord> {
  if (key === undefined) throw new AttuneError('UNAUTHENTICATED', `missing API key: ${missingHint}`);
  const record = await resolver.resolve(key);
  if (!record) throw new AttuneError('UNAUTHENTICATED', 'unknown API key');
  if (record.revokedAt !== null && record.revokedAt <= Date.now()) throw new AttuneError('UNAUTHENTICATED', 'this API key was revoked');
  if (!kinds.includes(record.kind)) {
    throw new AttuneError('FORBIDDEN', `a ${record.kind} key cannot use this endpoint; use a ${kinds.join(' or ')} key`);
  }
  if (origin !== undefined && record.scope?.origins && !record.scope.origins.includes(origin)) {
    throw new AttuneError('FORBIDDEN', `this key is not allowed from origin ${origin}`);
  }
  return record;
}

/** A secret key's role; keys made before roles existed are admins. */
export function roleOf(record: ApiKeyRecord): ApiKeyRole {
  return record.scope?.role ?? 'admin';
}

/** Admin paths a marketer may change: audiences, experiences and everything of decisions, activations, the catalog. */
const MARKETER_WRITES = ['/v1/segment-groups', '/v1/audiences', '/v1/activations', '/v1/catalog', '/v1/experiences', '/v1/offers', '/v1/decision-tables', '/v1/decision-models', '/v1/experiments', '/v1/connectors', '/v1/decision-settings', '/v1/config'];

/** Whether a role may make this admin request: analysts read, marketers also change marketing configuration, admins everything. */
export function roleAllows(role: ApiKeyRole, method: string, path: string): boolean {
  if (role === 'admin') return true;
  if (method === 'GET' || method === 'HEAD') return !path.startsWith('/v1/keys') && !path.startsWith('/v1/audit');
  if (role === 'analyst') return false;
  // Adapters confirm erasures with the key they push the catalog with.
  if (method === 'POST' && /^\/v1\/privacy\/requests\/[^/]+\/confirmations$/.test(path)) return true;
  return MARKETER_WRITES.some((p) => path === p || path.startsWith(`${p}/`));
}

export const TRACKING_KINDS: readonly ApiKeyKind[] = ['write', 'secret'];
export const DECIDE_KINDS: readonly ApiKeyKind[] = ['write', 'decide', 'secret'];
export const ADMIN_KINDS: readonly ApiKeyKind[] = ['secret'];
const TRACKING_HINT = 'send the write key as the Basic auth user name (or as "writeKey" in the body)';
const ADMIN_HINT = 'send the secret key as Authorization: Bearer sk_…';

/** Adds the challenge header a 401 should carry. */
async function challenge<T>(res: ServerResponse, scheme: 'Basic' | 'Bearer', fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isAttuneError(error) && error.code === 'UNAUTHENTICATED') res.setHeader('WWW-Authenticate', `${scheme} realm="attune"`);
    throw error;
  }
}

/**
 * Tracking API: authenticates from the header when there is one; otherwise (undefined) the
 * handler looks for `writeKey` in the body (beacons cannot set headers).
 */
export async function trackingKeyFromHeader(resolver: KeyResolver, req: IncomingMessage, res: ServerResponse): Promise<ApiKeyRecord | undefined> {
  return challenge(res, 'Basic', async () => {
    const key = presentedKey(req);
    return key === undefined ? undefined : authenticate(resolver, key, TRACKING_KINDS, TRACKING_HINT, req.headers.origin);
  });
}

/** Removes `writeKey` from an object; returns it when it is a non-empty string. */
function takeWriteKey(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, 'writeKey')) return undefined;
  const key = (value as Record<string, unknown>).writeKey;
  delete (value as Record<string, unknown>).writeKey;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

/**
 * Authenticates a tracking call by the `writeKey` of its body (analytics.js also puts one in
 * every call of a batch) unless the header did, and removes every copy so keys are never
 * stored with events.
 */
export async function authenticateBody(
  resolver: KeyResolver,
  fromHeader: ApiKeyRecord | undefined,
  body: unknown,
  isBatch: boolean,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<ApiKeyRecord> {
  let bodyKey = takeWriteKey(body);
  const calls = isBatch && body !== null && typeof body === 'object' ? (body as { batch?: unknown }).batch : undefined;
  if (Array.isArray(calls)) {
    for (const call of calls) {
      const key = takeWriteKey(call);
      bodyKey ??= key;
    }
  }
  if (fromHeader) return fromHeader;
  return challenge(res, 'Basic', () => authenticate(resolver, bodyKey, TRACKING_KINDS, TRACKING_HINT, req.headers.origin));
}

export function adminAuth(resolver: KeyResolver): RequestHandler {
  return async (req, res, next) => {
    const record = await challenge(res, 'Bearer', async () => authenticate(resolver, presentedKey(req), ADMIN_KINDS, ADMIN_HINT));
    res.locals.apiKey = record;
    const role = roleOf(record);
    if (!roleAllows(role, req.method, req.originalUrl.split('?')[0] ?? '')) {
      throw new AttuneError('FORBIDDEN', `the ${role} role cannot ${req.method} ${req.originalUrl.split('?')[0]}`);
    }
    next();
  };
}
