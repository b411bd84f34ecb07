import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type ApiKeyKind, type ApiKeyRecord, AttuneError, type Store } from '@attune/core';

/**
 * API keys. Write keys (`wk_…`) are public: they sit in browsers and apps and may only send
 * events. Secret keys (`sk_…`) open the admin API. Only a SHA-256 hash and an 8-character
 * prefix are stored; the key itself is shown once, when it is made.
 */

const PREFIX: Record<ApiKeyKind, string> = { write: 'wk_', secret: 'sk_' };

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
}

export interface CreateApiKeyResult {
  record: ApiKeyRecord;
  /** The key itself: show it once, it cannot be read back. */
  key: string;
}

export async function createApiKey(store: Store, options: CreateApiKeyOptions): Promise<CreateApiKeyResult> {
  if (options.kind !== 'write' && options.kind !== 'secret') {
    throw new AttuneError('VALIDATION', 'kind must be "write" or "secret"', { issues: [{ path: 'kind', message: 'must be "write" or "secret"' }] });
  }
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
  };
}
