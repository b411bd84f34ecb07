import { z } from 'zod';
import { AttuneError } from '../errors.ts';
import type { BlindIndex } from '../identity/identifiers.ts';
import { zodIssues } from '../protocol/parse.ts';
import type { Message } from '../protocol/segment.ts';

/** What every encrypted value starts with: `enc:v1:<key id>:<iv>:<ciphertext>`. */
export const ENCRYPTED_PREFIX = 'enc:v1:';

/**
 * Reversible encryption of single values with a key kept outside the database (the server's
 * AES-256-GCM on node:crypto; the core has no crypto). The key id in the text lets keys rotate.
 */
export interface FieldCipher {
  /** Returns `enc:v1:<kid>:<iv>:<ciphertext>`. */
  encrypt(plaintext: string): string;
  /** Throws when the key id is unknown or the text was altered. */
  decrypt(ciphertext: string): string;
}

const purposeName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be snake_case (a-z, 0-9, _)');

const fieldPolicySchema = z
  .object({
    /** `hash`: a keyed hash (one-way); `encrypt`: AES-256-GCM, readable again where a purpose needs it. */
    policy: z.enum(['hash', 'encrypt']),
    /** Activations of these purposes receive the field decrypted (the data subject's access export always does). */
    purposes: z.array(purposeName).max(50).default([]),
  })
  .strict();

/** Keys: `traits.<name>` or `properties.<name>`, nested names dotted (checked in parseFieldPolicies, to say so). */
export const fieldPoliciesSchema = z.record(z.string().max(200), fieldPolicySchema);

const FIELD_PATH = /^(traits|properties)(\.[^.\s]+)+$/;

export type FieldPoliciesInput = z.input<typeof fieldPoliciesSchema>;

export interface FieldPolicy {
  /** As configured: `traits.email`. */
  path: string;
  scope: 'traits' | 'properties';
  /** The path below `traits` / `properties`. */
  name: string[];
  policy: 'hash' | 'encrypt';
  purposes: string[];
}

/**
 * Validates the stored-field policies (`privacy.fields`) against the configured purposes, and
 * that the host gave what they need: a cipher for `encrypt`, a hasher for `hash`. Errors say
 * which field, at start-up rather than at the first call that carries it.
 */
export function parseFieldPolicies(
  input: unknown,
  purposes: readonly string[],
  tools: { hash?: unknown; cipher?: unknown },
): FieldPolicy[] {
  const r = fieldPoliciesSchema.safeParse(input ?? {});
  if (!r.success) {
    const issues = zodIssues(r.error).map((i) => ({ ...i, path: `privacy.fields.${i.path}` }));
    throw new AttuneError('VALIDATION', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
  }
  const out: FieldPolicy[] = [];
  for (const [path, f] of Object.entries(r.data)) {
    const fail = (message: string) => {
      throw new AttuneError('VALIDATION', `privacy.fields.${path}: ${message}`, { issues: [{ path: `privacy.fields.${path}`, message }] });
    };
    if (!FIELD_PATH.test(path)) fail('must be traits.<name> or properties.<name>');
    for (const p of f.purposes) if (!purposes.includes(p)) fail(`unknown purpose "${p}" (declared: ${purposes.join(', ')})`);
    if (f.policy === 'encrypt' && !tools.cipher) fail('encrypt needs an encryption key (ATTUNE_ENCRYPTION_KEY: base64 of 32 bytes)');
    if (f.policy === 'hash' && !tools.hash) fail('hash needs a hash key (engine option privacy.hash)');
    const [scope, ...name] = path.split('.') as ['traits' | 'properties', ...string[]];
    out.push({ path, scope, name, policy: f.policy, purposes: f.purposes });
  }
  return out;
}

/**
 * The identifier types these policies protect (email, phone, a configured external id), read
 * by ingestion from `traits.<type>` or, on Account events, `properties.<type>`: they are kept
 * and matched by a blind index, which needs the keyed hash even when the policy is `encrypt`.
 */
export function blindIndexFor(policies: FieldPolicy[], externalIds: readonly string[], hash: ((value: string) => string) | undefined): BlindIndex | undefined {
  const identifierTypes = new Set(['email', 'phone', ...externalIds]);
  const types: string[] = [];
  for (const f of policies) {
    const type = f.name.length === 1 ? (f.name[0] as string) : null;
    if (type === null || !identifierTypes.has(type)) continue;
    if (!hash) {
      const message = `${type} is an identifier: protected, it is matched by a keyed hash of its value (a blind index), which needs a hash key (engine option privacy.hash)`;
      throw new AttuneError('VALIDATION', `privacy.fields.${f.path}: ${message}`, { issues: [{ path: `privacy.fields.${f.path}`, message }] });
    }
    if (!types.includes(type)) types.push(type);
  }
  return hash && types.length > 0 ? { types, hash } : undefined;
}

export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENCRYPTED_PREFIX);
}

/** Encrypts one value, whatever its JSON type (decrypting gives it back as it was). */
export function encryptValue(value: unknown, cipher: FieldCipher): string {
  return isEncrypted(value) ? value : cipher.encrypt(JSON.stringify(value));
}

export function decryptValue(value: string, cipher: FieldCipher): unknown {
  return JSON.parse(cipher.decrypt(value)) as unknown;
}

const ACCOUNT_EVENTS = new Set(['Account Created', 'Account Updated']);

/** Where a policy's field sits in a call: traits wherever a call carries them, properties of events. */
function locations(m: Record<string, unknown>, f: FieldPolicy): string[][] {
  if (f.scope === 'properties') return [['properties', ...f.name]];
  const out = [['context', 'traits', ...f.name]];
  if (m.type === 'identify') out.push(['traits', ...f.name], ['setOnce', ...f.name]);
  else if (m.type === 'group') out.push(['traits', ...f.name]);
  else if (m.type === 'track' && ACCOUNT_EVENTS.has(m.event as string)) out.push(['properties', ...f.name], ['properties', 'traits', ...f.name]);
  return out;
}

/**
 * Applies the stored-field policies to a call about to be stored: each configured trait or
 * property is replaced by its keyed hash or its ciphertext, so neither the event row nor the
 * profile built from it holds the plain value. Copy on write: the call given is never changed
 * (the gate may pass it on as parsed, and a retried transaction gates it again); the same object
 * comes back when nothing is protected. Identifiers are read from the call before this (an
 * email or phone protected here is kept by its blind index, identity/identifiers.ts).
 */
export function protectFields(message: Message, policies: FieldPolicy[], tools: { hash?: ((v: string) => string) | undefined; cipher?: FieldCipher | undefined }): Message {
  const source = message as unknown as Record<string, unknown>;
  let root: Record<string, unknown> | null = null;
  const owned = new Set<object>();
  for (const f of policies) {
    for (const path of locations(source, f)) {
      const parent = parentOf(root ?? source, path);
      const key = path[path.length - 1] as string;
      if (!parent || !Object.hasOwn(parent, key)) continue;
      const value = parent[key];
      if (value === null || value === undefined) continue;
      const protectedValue = f.policy === 'encrypt' ? encryptValue(value, tools.cipher as FieldCipher) : hashOnce(value, tools.hash as (v: string) => string);
      if (!root) {
        root = { ...source };
        owned.add(root);
      }
      let cur = root;
      for (const part of path.slice(0, -1)) {
        const next = cur[part] as Record<string, unknown>;
        if (owned.has(next)) cur = next;
        else {
          const copy = { ...next };
          owned.add(copy);
          define(cur, part, copy);
          cur = copy;
        }
      }
      define(cur, key, protectedValue);
    }
  }
  return (root ?? source) as unknown as Message;
}

function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function hashOnce(value: unknown, hash: (v: string) => string): string {
  return hash(typeof value === 'string' ? value : JSON.stringify(value));
}

function parentOf(obj: Record<string, unknown>, path: string[]): Record<string, unknown> | null {
  let cur: unknown = obj;
  for (const part of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, part)) return null;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>) : null;
}

/**
 * Every encrypted value inside `value`, decrypted (for the data subject's own access export).
 * A value whose key is gone stays encrypted and is counted in `failed`.
 */
export function revealAll(value: unknown, cipher: FieldCipher | undefined, failed: { n: number } = { n: 0 }): unknown {
  if (isEncrypted(value)) {
    if (!cipher) {
      failed.n++;
      return value;
    }
    try {
      return decryptValue(value, cipher);
    } catch {
      failed.n++;
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((v) => revealAll(v, cipher, failed));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: revealAll(v, cipher, failed), enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * The traits a destination of `purpose` receives: encrypted ones decrypted only when the
 * purpose is listed for the field, left out otherwise; hashed and plain ones as stored.
 */
export function traitsForPurpose(
  traits: Record<string, unknown>,
  names: readonly string[],
  purpose: string,
  policies: FieldPolicy[],
  cipher: FieldCipher | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (!Object.hasOwn(traits, name)) continue;
    const value = traits[name];
    const set = (v: unknown) => Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
    if (!isEncrypted(value)) {
      set(value);
      continue;
    }
    const policy = policies.find((f) => f.scope === 'traits' && f.name.length === 1 && f.name[0] === name);
    if (!cipher || !policy?.purposes.includes(purpose)) continue;
    try {
      set(decryptValue(value, cipher));
    } catch {
      // A key no longer configured: the destination gets nothing rather than ciphertext.
    }
  }
  return out;
}
