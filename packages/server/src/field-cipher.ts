import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AttuneError, ENCRYPTED_PREFIX, type FieldCipher, type Logger, type Store } from '@attune/core';

interface FieldKey {
  id: string;
  key: Buffer;
}

const KID = /^[A-Za-z0-9_-]{1,32}$/;

function fail(message: string): never {
  throw new AttuneError('VALIDATION', `ATTUNE_ENCRYPTION_KEY: ${message}`, { issues: [{ path: 'ATTUNE_ENCRYPTION_KEY', message }] });
}

/**
 * Reads ATTUNE_ENCRYPTION_KEY: one key or several, comma-separated, each `base64` or
 * `<kid>:base64` of 32 random bytes (`openssl rand -base64 32`). The first encrypts; all decrypt,
 * so a new key goes first and the old one stays after it while its values exist. Without a
 * kid, a key is named by the first 8 hex digits of its SHA-256.
 */
export function parseEncryptionKeys(spec: string): FieldKey[] {
  const parts = spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) fail('is empty; set it to the base64 of 32 random bytes (openssl rand -base64 32)');
  const keys: FieldKey[] = [];
  for (const [i, part] of parts.entries()) {
    const colon = part.indexOf(':');
    const id = colon >= 0 ? part.slice(0, colon) : null;
    const b64 = colon >= 0 ? part.slice(colon + 1) : part;
    if (id !== null && !KID.test(id)) fail(`key ${i + 1}: the key id "${id}" must be 1-32 letters, digits, _ or -`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) fail(`key ${i + 1} is not base64`);
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32) fail(`key ${i + 1} is ${key.length} bytes; AES-256 needs 32 (the base64 of 32 random bytes: openssl rand -base64 32)`);
    const kid = id ?? createHash('sha256').update(key).digest('hex').slice(0, 8);
    if (keys.some((k) => k.id === kid)) fail(`key id "${kid}" is given twice`);
    keys.push({ id: kid, key });
  }
  return keys;
}

/** AES-256-GCM, `enc:v1:<kid>:<iv>:<ciphertext+tag>` (base64url): the engine's field cipher. */
export function createFieldCipher(keys: FieldKey[]): FieldCipher & { keyIds: string[] } {
  const current = keys[0];
  if (!current) fail('no key');
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  return {
    keyIds: keys.map((k) => k.id),
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${ENCRYPTED_PREFIX}${current.id}:${iv.toString('base64url')}:${ct.toString('base64url')}`;
    },
    decrypt(text) {
      const [kid, iv, ct] = text.slice(ENCRYPTED_PREFIX.length).split(':');
      const key = kid === undefined ? undefined : byId.get(kid);
      if (!key) throw new AttuneError('VALIDATION', `no encryption key with id "${kid}" is configured`);
      const raw = Buffer.from(ct ?? '', 'base64url');
      if (raw.length < 16) throw new AttuneError('VALIDATION', 'the encrypted value is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64url'));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString('utf8');
    },
  };
}

const KEY_CHECK_KIND = 'field-key-check';
const CHECK_TEXT = 'attune field key check';

/**
 * A known text encrypted under each key id, kept in the store, proves at start-up that a key id
 * still names the same key: a different key under a used id would otherwise fail only when a
 * value is read. A used key id no longer configured is logged (its values stay unreadable).
 */
export async function checkEncryptionKeys(store: Store, cipher: FieldCipher & { keyIds: string[] }, logger: Logger): Promise<void> {
  const checks = await store.docs.list(KEY_CHECK_KIND);
  const known = new Set(checks.map((d) => d.id));
  for (const doc of checks) {
    if (!cipher.keyIds.includes(doc.id)) {
      logger.warn({ keyId: doc.id }, 'values encrypted with this key id may exist, but ATTUNE_ENCRYPTION_KEY no longer has it: they cannot be read');
      continue;
    }
    let ok = false;
    try {
      ok = cipher.decrypt((doc.body as { text: string }).text) === CHECK_TEXT;
    } catch {
      ok = false;
    }
    if (!ok) fail(`key id "${doc.id}" does not decrypt what was encrypted under that id: this is not the key the data was written with`);
  }
  // The current key (the first) gets its check written when first used.
  const current = cipher.keyIds[0] as string;
  if (!known.has(current)) await store.docs.put(KEY_CHECK_KIND, current, { text: cipher.encrypt(CHECK_TEXT) }, 0, Date.now());
}
