import { memoizedHash } from '../hash-memo.ts';
import type { Message } from '../protocol/segment.ts';
import type { IdentityKey } from '../store.ts';

export type TraitStrategy = 'latest' | 'first' | 'max' | 'min' | 'union';

export interface IdentityConfig {
  /**
   * Extra identifier types (a CRM id, a POS loyalty card). They are read from
   * `context.externalIds` (`[{ id, type }]`, as Segment sends them), from traits of the same
   * name, and from profile records' `externalIds`.
   */
  externalIds: string[];
  /**
   * Most identifiers of a type one profile may hold. A merge or link that would exceed a
   * limit does not happen: two different known users never merge because they shared a
   * browser. Default `{ userId: 1 }`.
   */
  limits: Record<string, number>;
  /** Merge strategy per trait; `latest` (most recent write wins) when not listed. */
  traitStrategies: Record<string, TraitStrategy>;
  /**
   * Identifier types stored hashed or encrypted by `privacy.fields`: they are kept and matched
   * by a blind index (set by the engine from those policies, not configured directly).
   */
  blindIndex?: BlindIndex | undefined;
}

/**
 * A protected identifier's value in the identities table: a keyed hash of its normalised value,
 * so it still links profiles and answers lookups without the table holding it in clear (a
 * ciphertext with a random IV could not be matched).
 */
export interface BlindIndex {
  types: readonly string[];
  /** The host's keyed hash (HMAC with a key outside the database). */
  hash: (value: string) => string;
}

/**
 * What every blind-indexed value starts with. A normalised email holds an `@` and a phone only
 * digits, so neither can be mistaken for one; an external id type is either protected (every
 * value it gets is blind) or not.
 */
export const BLIND_INDEX_PREFIX = 'h:';

export const DEFAULT_IDENTITY_CONFIG: IdentityConfig = {
  externalIds: [],
  limits: { userId: 1 },
  traitStrategies: {},
};

export const CORE_IDENTITY_TYPES = ['userId', 'email', 'phone', 'anonymousId'] as const;

/** Identifier types, strongest first: the order in which a call's identifiers are resolved. */
export function identityPriority(config: IdentityConfig): string[] {
  return ['userId', ...config.externalIds, 'email', 'phone', 'anonymousId'];
}

export function normalizeEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(email) && email.length <= 320 ? email : null;
}

export function normalizePhone(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const raw = String(value).trim();
  const digits = raw.replace(/[^\d]/g, '');
  if (digits.length < 6 || digits.length > 20) return null;
  return raw.startsWith('+') ? `+${digits}` : digits;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function idValue(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= 255) return value;
  return null;
}

/**
 * The identifiers a call carries, strongest first, normalised (emails lower-cased, phones
 * reduced to digits). An alias call's previousId is not included: it is resolved on its own.
 */
export function extractIdentifiers(message: Message, config: IdentityConfig): IdentityKey[] {
  const found = new Map<string, string>();
  const context = message.context;
  const contextTraits = asRecord(context.traits);
  const traits = message.type === 'identify' ? asRecord(message.traits) : undefined;
  const props =
    message.type === 'track' && (message.event === 'Account Created' || message.event === 'Account Updated')
      ? asRecord(message.properties)
      : undefined;
  const pick = (name: string): unknown => traits?.[name] ?? props?.[name] ?? contextTraits?.[name];

  if (message.userId !== undefined) found.set('userId', message.userId);
  for (const type of config.externalIds) {
    let value: string | null = null;
    const listed = Array.isArray(context.externalIds) ? (context.externalIds as unknown[]) : [];
    for (const entry of listed) {
      const e = asRecord(entry);
      if (e && e.type === type) value = idValue(e.id);
    }
    value ??= idValue(pick(type));
    if (value !== null) found.set(type, value);
  }
  const email = normalizeEmail(pick('email'));
  if (email) found.set('email', email);
  const phone = normalizePhone(pick('phone'));
  if (phone) found.set('phone', phone);
  if (message.type !== 'alias' && message.anonymousId !== undefined) found.set('anonymousId', message.anonymousId);

  const keys: IdentityKey[] = [];
  for (const type of identityPriority(config)) {
    const value = found.get(type);
    if (value !== undefined) keys.push(storedKey(type, value, config.blindIndex));
  }
  return keys;
}

/** Normalises a lookup value the same way ingestion does, so `?email=Ada@X.com` finds ada@x.com. */
export function normalizeIdentifier(type: string, value: string): string | null {
  if (type === 'email') return normalizeEmail(value);
  if (type === 'phone') return normalizePhone(value);
  return idValue(value);
}

/**
 * The key an identifier given from outside (a lookup, a privacy request) is stored under, as
 * ingestion stores it: normalised, then blind-indexed when its type is protected. Null when the
 * value is no valid identifier of its type.
 */
export function identityKeyOf(type: string, value: string, config: IdentityConfig): IdentityKey | null {
  const normalized = normalizeIdentifier(type, value);
  return normalized === null ? null : storedKey(type, normalized, config.blindIndex);
}

/**
 * Every key an identifier may be found under, current form first. For a protected type, also its
 * plain form: identities written before the type was protected keep it (nothing rewrites them),
 * and a lookup or privacy request by that email must still reach them. Ingestion never writes
 * the plain form of a protected type.
 */
export function identityLookupKeys(type: string, value: string, config: IdentityConfig): IdentityKey[] {
  const key = identityKeyOf(type, value, config);
  if (key === null) return [];
  const plain = normalizeIdentifier(type, value) as string;
  return key.value === plain ? [key] : [key, { type, value: plain }];
}

/**
 * The profiles an identifier names, each once, by every key it may be stored under
 * (identityLookupKeys: current form first). Two when the person was seen under both forms of a
 * protected type without an identifier in common.
 */
export async function profilesByIdentifier(
  find: (key: IdentityKey) => Promise<string | null>,
  type: string,
  value: string,
  config: IdentityConfig,
): Promise<string[]> {
  const ids: string[] = [];
  for (const key of identityLookupKeys(type, value, config)) {
    const id = await find(key);
    if (id !== null && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * Whether a stored identity is a blind index: a keyed hash, no email, phone or id to show or
 * send (a plain one of a protected type was stored before the protection).
 */
export function isBlindIndexed(key: IdentityKey, config: IdentityConfig): boolean {
  return config.blindIndex?.types.includes(key.type) === true && key.value.startsWith(BLIND_INDEX_PREFIX);
}

/**
 * The identifiers of a call in the form identities written before their type was protected
 * carry: only the protected types, only when some are. Ingestion matches them against erasures'
 * suppressions made before the change, never stores them.
 */
export function plainProtectedIdentifiers(message: Message, config: IdentityConfig): IdentityKey[] {
  const blind = config.blindIndex;
  if (!blind) return [];
  return extractIdentifiers(message, { ...config, blindIndex: undefined }).filter((k) => blind.types.includes(k.type));
}

/**
 * A value naming a person in a generated id (an imported record's anonymous id is built from its
 * email when it has no other): as is, or its blind index when the type is protected, so the
 * generated id does not carry the value in clear either.
 */
export function identifierTag(type: string, value: string, config: IdentityConfig): string {
  if (!config.blindIndex?.types.includes(type)) return value;
  return storedKey(type, normalizeIdentifier(type, value) ?? value, config.blindIndex).value;
}

function storedKey(type: string, normalized: string, blind: BlindIndex | undefined): IdentityKey {
  if (!blind?.types.includes(type)) return { type, value: normalized };
  return { type, value: blindValue(`${type}:${normalized}`, blind.hash) };
}

function blindValue(input: string, hash: (value: string) => string): string {
  // A domain of its own: never equal to a hashed trait's or a suppression entry's hash.
  return `${BLIND_INDEX_PREFIX}${memoizedHash(hash, `blind-index:${input}`)}`;
}
