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
}

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
    if (value !== undefined) keys.push({ type, value });
  }
  return keys;
}

/** Normalises a lookup value the same way ingestion does, so `?email=Ada@X.com` finds ada@x.com. */
export function normalizeIdentifier(type: string, value: string): string | null {
  if (type === 'email') return normalizeEmail(value);
  if (type === 'phone') return normalizePhone(value);
  return idValue(value);
}
