import { describe, expect, it } from 'vitest';
import { parseMessageOrThrow } from '../protocol/parse.ts';
import {
  BLIND_INDEX_PREFIX,
  DEFAULT_IDENTITY_CONFIG,
  extractIdentifiers,
  type IdentityConfig,
  identifierTag,
  identityKeyOf,
  identityLookupKeys,
  isBlindIndexed,
  normalizeIdentifier,
  plainProtectedIdentifiers,
} from './identifiers.ts';

const opts = { receivedAt: 0, newId: () => 'x' };

describe('identifiers', () => {
  it('extracts identifiers strongest first, normalised', () => {
    const m = parseMessageOrThrow(
      {
        userId: 'u-1',
        anonymousId: 'anon',
        traits: { email: '  Ada@Example.COM ', phone: '+33 (6) 12-34-56-78', crm_id: 'C-9' },
        context: { externalIds: [{ id: 'L-1', type: 'loyalty_card', collection: 'users', encoding: 'none' }] },
      },
      'identify',
      opts,
    );
    const keys = extractIdentifiers(m, { ...DEFAULT_IDENTITY_CONFIG, externalIds: ['crm_id', 'loyalty_card'] });
    expect(keys).toEqual([
      { type: 'userId', value: 'u-1' },
      { type: 'crm_id', value: 'C-9' },
      { type: 'loyalty_card', value: 'L-1' },
      { type: 'email', value: 'ada@example.com' },
      { type: 'phone', value: '+33612345678' },
      { type: 'anonymousId', value: 'anon' },
    ]);
  });

  it('ignores unconfigured external ids and invalid emails', () => {
    const m = parseMessageOrThrow({ anonymousId: 'a', traits: { email: 'not-an-email', crm_id: 'C' } }, 'identify', opts);
    expect(extractIdentifiers(m, DEFAULT_IDENTITY_CONFIG)).toEqual([{ type: 'anonymousId', value: 'a' }]);
  });

  it('normalises lookups like ingestion', () => {
    expect(normalizeIdentifier('email', 'ADA@X.io')).toBe('ada@x.io');
    expect(normalizeIdentifier('phone', '06 12 34 56 78')).toBe('0612345678');
    expect(normalizeIdentifier('userId', '')).toBeNull();
  });

  describe('blind index of protected identifier types', () => {
    // A stand-in keyed hash (the server's is HMAC-SHA256): deterministic, and shows what it was given.
    const calls: string[] = [];
    const hash = (v: string) => {
      calls.push(v);
      return `H(${v})`;
    };
    const config: IdentityConfig = { ...DEFAULT_IDENTITY_CONFIG, externalIds: ['crm_id'], blindIndex: { types: ['email', 'crm_id'], hash } };
    const identify = (traits: Record<string, unknown>) => parseMessageOrThrow({ userId: 'u-1', anonymousId: 'anon', traits }, 'identify', opts);

    it('keys a protected identifier by a keyed hash of its normalised value, never the value', () => {
      const keys = extractIdentifiers(identify({ email: ' Ada@X.com ', phone: '06 12 34 56 78', crm_id: 'C-9' }), config);
      expect(keys).toEqual([
        { type: 'userId', value: 'u-1' },
        { type: 'crm_id', value: `${BLIND_INDEX_PREFIX}H(blind-index:crm_id:C-9)` },
        { type: 'email', value: `${BLIND_INDEX_PREFIX}H(blind-index:email:ada@x.com)` },
        // Not protected: as before.
        { type: 'phone', value: '0612345678' },
        { type: 'anonymousId', value: 'anon' },
      ]);
      // Different spellings of one address link: normalised before hashing.
      const again = extractIdentifiers(identify({ email: 'ada@x.com ' }), config).find((k) => k.type === 'email');
      expect(again).toEqual(keys.find((k) => k.type === 'email'));
      // An invalid email is still no identifier, and is never hashed as one.
      expect(extractIdentifiers(identify({ email: 'not-an-email' }), config).map((k) => k.type)).toEqual(['userId', 'anonymousId']);
    });

    it('gives lookups the key ingestion stored, then the plain form identities written before the protection keep', () => {
      const stored = extractIdentifiers(identify({ email: 'ada@x.com' }), config).find((k) => k.type === 'email');
      expect(identityKeyOf('email', 'ADA@x.com', config)).toEqual(stored);
      expect(identityLookupKeys('email', ' ADA@x.com', config)).toEqual([stored, { type: 'email', value: 'ada@x.com' }]);
      expect(identityLookupKeys('phone', '06 12 34 56 78', config)).toEqual([{ type: 'phone', value: '0612345678' }]);
      expect(identityLookupKeys('email', 'nope', config)).toEqual([]);
      expect(identityKeyOf('email', 'ADA@x.com', DEFAULT_IDENTITY_CONFIG)).toEqual({ type: 'email', value: 'ada@x.com' });
    });

    it('tells blind values from plain ones by type, and tags generated ids with the blind value', () => {
      const blind = identityKeyOf('email', 'ada@x.com', config) as { type: string; value: string };
      expect(isBlindIndexed(blind, config)).toBe(true);
      expect(isBlindIndexed({ type: 'email', value: 'ada@x.com' }, config)).toBe(false);
      // A user id that happens to start like one is a user id: its type is not protected.
      expect(isBlindIndexed({ type: 'userId', value: 'h:123' }, config)).toBe(false);
      expect(identifierTag('email', 'Ada@X.com', config)).toBe(blind.value);
      expect(identifierTag('phone', '0612345678', config)).toBe('0612345678');
      expect(plainProtectedIdentifiers(identify({ email: 'Ada@X.com', phone: '0612345678' }), config)).toEqual([{ type: 'email', value: 'ada@x.com' }]);
      expect(plainProtectedIdentifiers(identify({ email: 'Ada@X.com' }), DEFAULT_IDENTITY_CONFIG)).toEqual([]);
    });

    it('hashes each value once while it is recent', () => {
      calls.length = 0;
      for (let i = 0; i < 3; i++) extractIdentifiers(identify({ email: 'memo@x.com' }), config);
      expect(calls.filter((c) => c.endsWith('memo@x.com'))).toEqual(['blind-index:email:memo@x.com']);
    });
  });
});
