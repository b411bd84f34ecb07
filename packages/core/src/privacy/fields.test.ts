import { describe, expect, it } from 'vitest';
import { parseMessageOrThrow } from '../protocol/parse.ts';
import { gateMessage, parseConsentConfig } from './consent.ts';
import { blindIndexFor, type FieldCipher, parseFieldPolicies, protectFields, revealAll, traitsForPurpose } from './fields.ts';

const parse = (raw: unknown) => parseMessageOrThrow(raw, undefined, { receivedAt: 0, newId: () => 'id' });
const PURPOSES = ['necessary', 'analytics', 'personalization', 'marketing'];

/**
 * A stand-in for the server's AES-256-GCM (the core has no crypto): reversible and tagged with
 * a key id, which is all these rules depend on. The real cipher is tested in the server.
 */
const cipher: FieldCipher = {
  encrypt: (p) => `enc:v1:t:iv:${[...p].reverse().join('')}`,
  decrypt: (c) => {
    const [, , kid, , ...body] = c.split(':');
    if (kid !== 't') throw new Error(`unknown key ${kid}`);
    return [...body.join(':')].reverse().join('');
  },
};
const hash = (v: string) => `h(${v.length})`;

describe('stored-field policies', () => {
  const policies = parseFieldPolicies(
    { 'traits.email': { policy: 'encrypt', purposes: ['marketing'] }, 'traits.phone': { policy: 'hash' }, 'properties.shipping.street': { policy: 'encrypt' } },
    PURPOSES,
    { hash, cipher },
  );

  it('replaces configured traits wherever a call carries them, and properties of events', () => {
    const input = parse({ type: 'identify', userId: 'u', traits: { email: 'a@b.c', phone: '+4912345678', name: 'Ada' }, context: { traits: { email: 'a@b.c' } } });
    const identify = protectFields(input, policies, { hash, cipher });
    // Copy on write: the call given is untouched, parts without protected fields are shared.
    expect((input as unknown as { traits: Record<string, unknown> }).traits.email).toBe('a@b.c');
    expect((input.context.traits as Record<string, unknown>).email).toBe('a@b.c');
    const plain = parse({ type: 'track', event: 'Plain', userId: 'u', properties: { x: 1 } });
    expect(protectFields(plain, policies, { hash, cipher })).toBe(plain);
    const t = (identify as unknown as { traits: Record<string, unknown> }).traits;
    expect(t.email).toMatch(/^enc:v1:t:/);
    expect(t.phone).toBe('h(11)');
    expect(t.name).toBe('Ada');
    expect((identify.context.traits as Record<string, unknown>).email).toMatch(/^enc:v1:t:/);
    const account = protectFields(parse({ type: 'track', event: 'Account Created', userId: 'u', properties: { email: 'a@b.c', traits: { phone: 123456789 } } }), policies, { hash, cipher });
    expect((account as unknown as { properties: Record<string, unknown> }).properties).toEqual({ email: expect.stringMatching(/^enc:v1:/), traits: { phone: 'h(9)' } });
    const order = protectFields(parse({ type: 'track', event: 'Address Saved', userId: 'u', properties: { email: 'kept@b.c', shipping: { street: { line: 1 }, city: 'Oslo' } } }), policies, { hash, cipher });
    const props = (order as unknown as { properties: { email: string; shipping: { street: string; city: string } } }).properties;
    // A property is protected where configured; a trait name does not reach into event properties.
    expect(props.email).toBe('kept@b.c');
    expect(props.shipping.city).toBe('Oslo');
    expect(revealAll(props.shipping.street, cipher)).toEqual({ line: 1 });
  });

  it('encrypts a field whose purpose is not granted when the rule says so', () => {
    const config = parseConsentConfig({ events: { '*': { purpose: 'analytics', fields: { 'properties.email': { purpose: 'marketing', otherwise: 'encrypt' } } } } });
    const m = parse({ type: 'track', event: 'Signup', anonymousId: 'a', properties: { email: 'a@b.c' } });
    const gated = gateMessage(m, 'Signup', { necessary: true, analytics: true, marketing: false }, config, hash, cipher);
    const email = (gated.message as unknown as { properties: { email: string } }).properties.email;
    expect(email).toMatch(/^enc:v1:t:/);
    expect(revealAll(email, cipher)).toBe('a@b.c');
    expect(() => gateMessage(m, 'Signup', { necessary: true, analytics: true }, config, hash, undefined)).toThrow(/encryption key/);
  });

  it('decrypts for listed purposes only, and leaves out what a purpose may not read', () => {
    const traits = { email: cipher.encrypt(JSON.stringify('a@b.c')), phone: 'h(11)', vip: true, other: 'enc:v1:gone:iv:x' };
    expect(traitsForPurpose(traits, ['email', 'phone', 'vip', 'missing'], 'marketing', policies, cipher)).toEqual({ email: 'a@b.c', phone: 'h(11)', vip: true });
    expect(traitsForPurpose(traits, ['email', 'vip'], 'analytics', policies, cipher)).toEqual({ vip: true });
    const failed = { n: 0 };
    expect(revealAll({ traits }, cipher, failed)).toEqual({ traits: { email: 'a@b.c', phone: 'h(11)', vip: true, other: 'enc:v1:gone:iv:x' } });
    expect(failed.n).toBe(1);
  });

  it('refuses policies it cannot carry out, naming the field', () => {
    expect(() => parseFieldPolicies({ 'traits.email': { policy: 'encrypt' } }, PURPOSES, { hash })).toThrow(/privacy\.fields\.traits\.email: encrypt needs an encryption key/);
    expect(() => parseFieldPolicies({ 'traits.email': { policy: 'encrypt', purposes: ['ads'] } }, PURPOSES, { cipher })).toThrow(/privacy\.fields\.traits\.email: unknown purpose "ads"/);
    expect(() => parseFieldPolicies({ 'context.ip': { policy: 'hash' } }, PURPOSES, { hash })).toThrow(/privacy\.fields\.context\.ip: must be traits\.<name> or properties\.<name>/);
    expect(() => parseFieldPolicies({ 'traits.email': { policy: 'rot13' } }, PURPOSES, { hash })).toThrow(/privacy\.fields\.traits\.email\.policy/);
  });

  it('keeps the identifier types it protects by a blind index, which needs the hash key even to encrypt', () => {
    const parsed = parseFieldPolicies(
      {
        'traits.email': { policy: 'encrypt' },
        'properties.crm_id': { policy: 'hash' },
        'traits.address.email': { policy: 'encrypt' },
        'traits.name': { policy: 'encrypt' },
      },
      PURPOSES,
      { hash, cipher },
    );
    expect(blindIndexFor(parsed, ['crm_id'], hash)).toEqual({ types: ['email', 'crm_id'], hash });
    // An unconfigured external id type is no identifier; nothing protected: no index.
    expect(blindIndexFor(parsed, [], hash)?.types).toEqual(['email']);
    expect(blindIndexFor(parseFieldPolicies({ 'traits.name': { policy: 'encrypt' } }, PURPOSES, { cipher }), [], undefined)).toBeUndefined();
    const encryptOnly = parseFieldPolicies({ 'traits.phone': { policy: 'encrypt' } }, PURPOSES, { cipher });
    expect(() => blindIndexFor(encryptOnly, [], undefined)).toThrow(/^privacy\.fields\.traits\.phone: phone is an identifier: .*needs a hash key \(engine option privacy\.hash\)/);
  });
});
