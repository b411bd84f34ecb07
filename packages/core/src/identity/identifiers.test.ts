import { describe, expect, it } from 'vitest';
import { parseMessageOrThrow } from '../protocol/parse.ts';
import { DEFAULT_IDENTITY_CONFIG, extractIdentifiers, normalizeIdentifier } from './identifiers.ts';

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
});
