import { describe, expect, it } from 'vitest';
import { audienceGroupAction, customerIdsOfProfile, readMembershipWebhook, verifyWebhook } from './activation.ts';

// The core takes the HMAC as a port (it has no crypto); a keyed string hash stands in here. The real
// HMAC-SHA256 against the server's signer is exercised by the commerce plugins' end-to-end tests.
const sign = (content: string) => {
  let h = 2166136261;
  for (const ch of `key:${content}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h.toString(36);
};
const body = JSON.stringify({ type: 'audience.membership', timestamp: '2026-11-01T12:00:00.000Z', data: { id: 'vip:p1:entered:1', audienceId: 'vip', profileId: 'p1', change: 'entered', at: '2026-11-01T12:00:00.000Z' } });
const now = 1_790_000_000;

describe('activation webhooks', () => {
  it('accepts a delivery signed with the secret (also among rotated signatures)', () => {
    const headers = { id: 'a:1', timestamp: String(now), signature: `v1,${sign(`a:1.${now}.${body}`)}` };
    expect(() => verifyWebhook({ headers, body, now, sign })).not.toThrow();
    expect(() => verifyWebhook({ headers: { ...headers, signature: `v1,AAAA ${headers.signature}` }, body, now, sign })).not.toThrow();
  });

  it('refuses a tampered body, a wrong secret, an old timestamp and missing headers, saying which', () => {
    const headers = { id: 'a:1', timestamp: String(now), signature: `v1,${sign(`a:1.${now}.${body}`)}` };
    expect(() => verifyWebhook({ headers, body: body.replace('entered', 'exited'), now, sign })).toThrow('signature does not match');
    expect(() => verifyWebhook({ headers, body, now: now + 301, sign })).toThrow('more than 300 s away');
    expect(() => verifyWebhook({ headers: { ...headers, signature: undefined }, body, now, sign })).toThrow('headers are required');
    expect(() => verifyWebhook({ headers: { ...headers, timestamp: 'soon' }, body, now, sign })).toThrow('is not a number');
  });

  it('reads the membership change and maps it to a group action', () => {
    const change = readMembershipWebhook(body);
    expect(change).toMatchObject({ audienceId: 'vip', profileId: 'p1', change: 'entered' });
    expect(audienceGroupAction(change!, { groups: { vip: 'VIP customers' } })).toEqual({ action: 'add', group: 'VIP customers' });
    expect(audienceGroupAction({ ...change!, change: 'exited' }, { prefix: 'attune:' })).toEqual({ action: 'remove', group: 'attune:vip' });
    expect(audienceGroupAction(change!, { groups: { other: 'x' } })).toBeNull();
    expect(readMembershipWebhook(JSON.stringify({ type: 'test', timestamp: 'x', data: {} }))).toBeNull();
    expect(() => readMembershipWebhook('{')).toThrow('not JSON');
    expect(() => readMembershipWebhook(JSON.stringify({ type: 'audience.membership', timestamp: 'x', data: { audienceId: 'vip' } }))).toThrow('webhook data');
  });

  it('finds the backend customer ids of a profile', () => {
    expect(customerIdsOfProfile({ identities: [{ type: 'userId', value: '7' }, { type: 'email', value: 'a@b.c' }] }, 'shop_customer_id')).toEqual(['7']);
    expect(customerIdsOfProfile({ identities: [{ type: 'userId', value: 'u' }, { type: 'shop_customer_id', value: '9' }] }, 'shop_customer_id')).toEqual(['9']);
    // A protected customer id type holds only its blind index (marked by GET /v1/profiles): no backend id.
    expect(customerIdsOfProfile({ identities: [{ type: 'userId', value: '7' }, { type: 'shop_customer_id', value: 'h:ab12', blind: true }] }, 'shop_customer_id')).toEqual(['7']);
  });
});
