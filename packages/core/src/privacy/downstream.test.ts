import { describe, expect, it } from 'vitest';
import type { FetchRequest, FetchResponse } from '../ports.ts';
import { FetchError, silentLogger } from '../ports.ts';
import { callMentions, createErasureConfirmer, ensureErasureActivation, erasedIdentifiers, readErasureDelivery } from './downstream.ts';

// The core takes the HMAC as a port; a keyed string hash stands in here. The real HMAC-SHA256
// against the server's signer, and the confirmations against a real server, are exercised by the
// Strapi and Vendure end-to-end tests.
const sign = (content: string) => {
  let h = 2166136261;
  for (const ch of `key:${content}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h.toString(36);
};
const now = 1_790_000_000;
const data = {
  id: 'erased:p1:1',
  requestId: 'er_1',
  profileId: 'p1',
  profileIds: ['p1', 'p0'],
  identities: [
    { type: 'email', value: 'Ada@Example.com ' },
    { type: 'userId', value: 'u-42' },
    { type: 'anonymousId', value: 'browser-1' },
    { type: 'vendure_customer_id', value: '7' },
  ],
  at: '2026-12-03T08:00:00.000Z',
};
const delivery = (body: string, id = 'act:erased:p1:1') => ({ headers: { id, timestamp: String(now), signature: `v1,${sign(`${id}.${now}.${body}`)}` }, body, now, sign });

/** Answers scripted in order, recording the requests (Attune's confirmation endpoint as seen by the port). */
function scripted(answers: Array<FetchResponse | Error>) {
  const requests: FetchRequest[] = [];
  const fetch = async (r: FetchRequest) => {
    requests.push(r);
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch, requests };
}

describe('downstream erasure notices', () => {
  it('reads a signed profile.erased notice and groups its identifiers', () => {
    const body = JSON.stringify({ type: 'profile.erased', timestamp: data.at, data });
    const read = readErasureDelivery(delivery(body));
    expect(read?.webhookId).toBe('act:erased:p1:1');
    const ids = erasedIdentifiers(read!.notice);
    expect(ids).toMatchObject({ emails: ['ada@example.com'], userIds: ['u-42'], anonymousIds: ['browser-1'], profileIds: ['p1', 'p0'] });
    expect(ids.byType.vendure_customer_id).toEqual(['7']);
    expect(callMentions({ type: 'identify', userId: 'u-42' }, ids)).toBe(true);
    expect(callMentions({ type: 'track', anonymousId: 'browser-1', event: 'x' }, ids)).toBe(true);
    expect(callMentions({ type: 'track', userId: 'u-1', properties: { email: 'ADA@example.com' } }, ids)).toBe(true);
    expect(callMentions({ type: 'track', userId: '7' }, ids, ids.byType.vendure_customer_id)).toBe(true);
    // A product with the customer's id is not the customer.
    expect(callMentions({ type: 'track', userId: 'u-1', properties: { product_id: '7', email: 'grace@example.com' } }, ids, ['7'])).toBe(false);
  });

  it('refuses a bad signature before reading, names the field of a malformed notice, and ignores other topics', () => {
    const body = JSON.stringify({ type: 'profile.erased', timestamp: data.at, data });
    const signed = delivery(body);
    expect(() => readErasureDelivery({ ...signed, body: body.replace('u-42', 'u-43') })).toThrow('signature does not match');
    const bad = JSON.stringify({ type: 'profile.erased', timestamp: data.at, data: { ...data, profileIds: 'p1' } });
    expect(() => readErasureDelivery(delivery(bad))).toThrow(/data\.profileIds/);
    expect(readErasureDelivery(delivery(JSON.stringify({ type: 'test', timestamp: data.at, data: {} })))).toBeNull();
  });
});

describe('erasure confirmations', () => {
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };

  it('posts the target and details, retrying 5xx and network errors with backoff', async () => {
    sleeps.length = 0;
    const s = scripted([{ status: 503, body: 'busy' }, new Error('ECONNRESET'), { status: 200, body: '{"status":"completed"}' }]);
    const confirmer = createErasureConfirmer({ url: 'http://attune/', secretKey: 'sk_1', activationId: 'strapi', fetch: s.fetch, sleep, logger: silentLogger, baseDelayMs: 10 });
    const outcome = await confirmer.confirm('er_1', { entries: 3 });
    expect(outcome).toEqual({ status: 'confirmed', attempts: 3, receiptStatus: 'completed' });
    expect(sleeps).toEqual([10, 20]);
    expect(s.requests[0]).toMatchObject({ url: 'http://attune/v1/privacy/requests/er_1/confirmations', method: 'POST' });
    expect(s.requests[0]?.headers.authorization).toBe('Bearer sk_1');
    expect(JSON.parse(s.requests[0]?.body ?? '')).toEqual({ target: 'activation:strapi', details: { entries: 3 } });
  });

  it('stops at once on a 404 or a 4xx, and gives up after the attempts without throwing', async () => {
    const unknown = scripted([{ status: 404, body: 'no privacy request' }]);
    const c1 = createErasureConfirmer({ url: 'http://a', secretKey: 'k', activationId: 'x', fetch: unknown.fetch, sleep, logger: silentLogger });
    expect((await c1.confirm('er_2', {})).status).toBe('unknown');
    const forbidden = scripted([{ status: 403, body: 'role' }]);
    const c2 = createErasureConfirmer({ url: 'http://a', secretKey: 'k', activationId: 'x', fetch: forbidden.fetch, sleep, logger: silentLogger });
    expect(await c2.confirm('er_2', {})).toMatchObject({ status: 'failed', error: expect.stringContaining('HTTP 403') });
    expect(forbidden.requests).toHaveLength(1);
    const down = scripted([new Error('down'), new Error('down')]);
    const c3 = createErasureConfirmer({ url: 'http://a', secretKey: 'k', activationId: 'x', fetch: down.fetch, sleep, logger: silentLogger, attempts: 2 });
    expect(await c3.confirm('er_2', {})).toMatchObject({ status: 'failed', attempts: 2 });
  });
});

describe('registering the erasure activation', () => {
  const options = (fetch: ReturnType<typeof scripted>['fetch']) => ({ url: 'http://a', secretKey: 'k', fetch, activation: { id: 'strapi', name: 'Strapi', url: 'http://cms/api/attune/erasure' } });

  it('creates it once (keeping the secret shown), leaves a matching one alone, and corrects one that drifted', async () => {
    // The first request meets a kept-alive connection Attune closed: it is sent once more.
    const created = scripted([new FetchError('NETWORK', 'other side closed'), { status: 404, body: '' }, { status: 201, body: '{"secret":"whsec_abc"}' }]);
    expect(await ensureErasureActivation(options(created.fetch))).toEqual({ status: 'created', secret: 'whsec_abc' });
    expect(JSON.parse(created.requests[2]?.body ?? '')).toMatchObject({ id: 'strapi', topics: ['profile.erased'], erasureConfirmation: 'callback' });
    const same = { id: 'strapi', name: 'Strapi', url: 'http://cms/api/attune/erasure', erasureConfirmation: 'callback', enabled: true, version: 1, secret: 'whsec_…abcd' };
    const unchanged = scripted([{ status: 200, body: JSON.stringify(same) }]);
    expect(await ensureErasureActivation(options(unchanged.fetch))).toEqual({ status: 'unchanged' });
    const drifted = scripted([{ status: 200, body: JSON.stringify({ ...same, url: 'http://old' }) }, { status: 200, body: '{}' }]);
    expect(await ensureErasureActivation(options(drifted.fetch))).toEqual({ status: 'updated' });
    const put = JSON.parse(drifted.requests[1]?.body ?? '');
    expect(put).toMatchObject({ url: 'http://cms/api/attune/erasure', version: 1 });
    expect(put.secret).toBeUndefined();
  });
});
