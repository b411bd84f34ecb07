import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type ApiKeyKind, type ApiKeyRecord, type ApiKeyScope, AttuneError, type Store } from '@attune/core';

/**
 * API keys. Write keys (`wk_…`) are public: they sit in browsers and apps and may only send
 * events. Secret keys (`sk_…`) open the admin API. Only a SHA-256 hash and an 8-character
 * prefix are stored; the key itself is shown once, when it is made.
 */

const PREFIX: Record<ApiKeyKind, string> = { write: 'wk_', decide: 'dk_', secret: 'sk_' };

export function generateKey(kind: ApiKeyKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface CreateApiKeyOptions {
  kind: ApiKeyKind;
  name: string;
  /** A key chosen by the operator (e.g. from an environment variable); generated when absent. */
  key?: string;
  /** Role (secret keys; default admin), origins and source (public keys), rate limit. */
  scope?: ApiKeyScope;
}

export interface CreateApiKeyResult {
  record: ApiKeyRecord;
  /** The key itself: show it once, it cannot be read back. */
  key: string;
}

export async function createApiKey(store: Store, options: CreateApiKeyOptions): Promise<CreateApiKeyResult> {
  if (!Object.hasOwn(PREFIX, options.kind)) {
    throw new AttuneError('VALIDATION', 'kind must be "write", "decide" or "secret"', { issues: [{ path: 'kind', message: 'must be "write", "decide" or "secret"' }] });
  }
  if (options.scope?.role !== undefined && options.kind !== 'secret') {
    throw new AttuneError('VALIDATION', 'role: only secret keys have a role', { issues: [{ path: 'role', message: 'only secret keys have a role' }] });
  }
  if (options.scope?.origins !== undefined && options.kind === 'secret') {
    throw new AttuneError('VALIDATION', 'origins: secret keys never belong in a browser', { issues: [{ path: 'origins', message: 'only write and decide keys take origins' }] });
  }
  const scope: ApiKeyScope = { ...(options.kind === 'secret' ? { role: 'admin' as const } : {}), ...options.scope };
  const key = options.key ?? generateKey(options.kind);
  if (key.length === 0) throw new AttuneError('VALIDATION', 'key must not be empty', { issues: [{ path: 'key', message: 'must not be empty' }] });
  const hash = hashKey(key);
  if (await store.keys.findByHash(hash)) throw new AttuneError('CONFLICT', 'this key already exists');
  const record: ApiKeyRecord = {
    id: randomUUID(),
    kind: options.kind,
    name: options.name,
    hash,
    prefix: key.slice(0, 8),
    createdAt: Date.now(),
    revokedAt: null,
    ...(Object.keys(scope).length > 0 ? { scope } : {}),
  };
  await store.keys.put(record);
  return { record, key };
}

/**
 * Makes sure a key given by the operator (ATTUNE_SECRET_KEY, ATTUNE_WRITE_KEY) exists. Safe to
 * call on every start and from several nodes at once. A key revoked through the API stays
 * revoked: an environment variable does not resurrect it.
 */
export async function ensureKey(store: Store, kind: ApiKeyKind, key: string, name: string): Promise<ApiKeyRecord> {
  const hash = hashKey(key);
  const existing = await store.keys.findByHash(hash);
  if (existing) {
    if (existing.kind !== kind) throw new AttuneError('CONFLICT', `the ${kind} key given is already registered as a ${existing.kind} key`);
    return existing;
  }
  try {
    return (await createApiKey(store, { kind, name, key })).record;
  } catch (error) {
    // Another node inserted it between our read and our write.
    const raced = await store.keys.findByHash(hash);
    if (raced && raced.kind === kind) return raced;
    throw error;
  }
}

export function listKeys(store: Store): Promise<ApiKeyRecord[]> {
  return store.keys.list();
}

/**
 * Rotation with overlap: a new key with the same kind, name and scope; the old one keeps
 * working for `overlapMs`, so clients can switch without downtime.
 */
export async function rotateKey(store: Store, id: string, overlapMs: number): Promise<CreateApiKeyResult & { previous: ApiKeyRecord }> {
  const old = (await store.keys.list()).find((k) => k.id === id);
  if (!old) throw new AttuneError('NOT_FOUND', `no key with id ${id}`);
  const now = Date.now();
  if (old.revokedAt !== null && old.revokedAt <= now) throw new AttuneError('CONFLICT', `key ${id} is revoked; create a new one`);
  const created = await createApiKey(store, { kind: old.kind, name: old.name, ...(old.scope ? { scope: old.scope } : {}) });
  await store.keys.revoke(id, now + overlapMs);
  const previous = (await store.keys.list()).find((k) => k.id === id) ?? old;
  return { ...created, previous };
}

/** Whether a key works at `now` (not revoked, or in a rotation's overlap). */
export function isActive(record: ApiKeyRecord, now = Date.now()): boolean {
  return record.revokedAt === null || record.revokedAt > now;
}

/** Revokes a key; false when no key has this id. */
export function revokeKey(store: Store, id: string): Promise<boolean> {
  return store.keys.revoke(id, Date.now());
}

/** A key as the API shows it: never the hash, never the key. */
export function publicKeyView(record: ApiKeyRecord) {
  return {
    id: record.id,
    kind: record.kind,
    name: record.name,
    prefix: record.prefix,
    createdAt: new Date(record.createdAt).toISOString(),
    revokedAt: record.revokedAt === null ? null : new Date(record.revokedAt).toISOString(),
    ...(record.kind === 'secret' ? { role: record.scope?.role ?? 'admin' } : {}),
    ...(record.scope?.origins ? { origins: record.scope.origins } : {}),
    ...(record.scope?.source ? { source: record.scope.source } : {}),
    ...(record.scope?.rateLimit ? { rateLimit: record.scope.rateLimit } : {}),
  };
}
