import { describe, expect, it } from 'vitest';
import { FetchError } from '../ports.ts';
import { AttuneRequestError, createAttuneClient, fetchPort, type WebFetch } from './client.ts';

// The host's fetch is the only stand-in here (the core has no network); the adapters' end-to-end
// tests run the client against a real Attune server.
function recordingFetch(answers: Array<{ status: number; body: string } | Error>) {
  const calls: Array<{ url: string; init: Parameters<WebFetch>[1] }> = [];
  const impl: WebFetch = async (url, init) => {
    calls.push({ url, init });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return { status: next.status, text: async () => next.body };
  };
  return { calls, impl };
}

describe('Attune client', () => {
  it('splits calls into batches, sends the write key in the body and adds up the answers', async () => {
    const f = recordingFetch([
      { status: 200, body: '{"accepted":100,"duplicates":0}' },
      { status: 200, body: '{"accepted":49,"duplicates":1}' },
    ]);
    const client = createAttuneClient({ url: 'http://attune:4000/', writeKey: 'wk', secretKey: 'sk', fetch: fetchPort(f.impl) });
    const calls = Array.from({ length: 150 }, (_, i) => ({ type: 'track' as const, event: 'X', messageId: `m${i}`, userId: 'u' }));
    expect(await client.track(calls)).toEqual({ accepted: 149, duplicates: 1 });
    expect(f.calls.map((c) => c.url)).toEqual(['http://attune:4000/v1/batch', 'http://attune:4000/v1/batch']);
    const body = JSON.parse(f.calls[0]!.init.body!) as { writeKey: string; batch: unknown[] };
    expect(body.writeKey).toBe('wk');
    expect(body.batch).toHaveLength(100);
  });

  it('says whether a failure is worth retrying', async () => {
    const f = recordingFetch([{ status: 503, body: 'busy' }, { status: 400, body: '{"error":"bad"}' }, new TypeError('fetch failed')]);
    const client = createAttuneClient({ url: 'http://attune', secretKey: 'sk', fetch: fetchPort(f.impl) });
    const batch = { items: [{ id: '1', type: 'product', updatedAt: '2026-01-01T00:00:00.000Z', fields: [] }] };
    await expect(client.catalog('s', batch)).rejects.toMatchObject({ status: 503, retryable: true });
    await expect(client.catalog('s', batch)).rejects.toMatchObject({ status: 400, retryable: false });
    const network = await client.catalog('s', batch).catch((e: unknown) => e);
    expect(network).toBeInstanceOf(AttuneRequestError);
    expect(network).toMatchObject({ status: null, retryable: true });
    expect(f.calls[0]?.init.headers.authorization).toBe('Bearer sk');
  });

  it('refuses to send without the key a call needs, and reads a missing profile as null', async () => {
    const f = recordingFetch([{ status: 404, body: '{}' }]);
    const client = createAttuneClient({ url: 'http://attune', fetch: fetchPort(f.impl) });
    await expect(client.track([])).rejects.toThrow('write key is not configured');
    await expect(client.importOrders([])).rejects.toThrow('secret key is not configured');
    const withSecret = createAttuneClient({ url: 'http://attune', secretKey: 'sk', fetch: fetchPort(f.impl) });
    expect(await withSecret.profile('p 1')).toBeNull();
    expect(f.calls[0]?.url).toBe('http://attune/v1/profiles/p%201');
  });

  it('fetchPort reports timeouts and oversized answers as FetchErrors', async () => {
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    const f = recordingFetch([timeout, { status: 200, body: 'x'.repeat(11) }]);
    const port = fetchPort(f.impl, (ms) => ({ ms }));
    const request = { url: 'http://a', method: 'GET', headers: {}, timeoutMs: 50, maxBytes: 10 };
    await expect(port(request)).rejects.toMatchObject({ code: 'TIMEOUT' });
    const big = await port(request).catch((e: unknown) => e);
    expect(big).toBeInstanceOf(FetchError);
    expect(big).toMatchObject({ code: 'TOO_LARGE' });
    expect(f.calls[0]?.init.signal).toEqual({ ms: 50 });
  });
});
