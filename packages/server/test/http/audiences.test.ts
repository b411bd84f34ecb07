import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, STORE_KINDS, startHarness, uid } from './harness.ts';

const spec = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../core/spec/conditions.json', import.meta.url)), 'utf8'),
) as { cases: Array<Record<string, unknown> & { name: string; expected?: boolean; invalidPaths?: string[] }> };

describe.each(STORE_KINDS)('audience API on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(() => h.close());

  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    h.admin(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('runs every case of spec/conditions.json through the condition tester', async () => {
    for (const c of spec.cases) {
      const res = await send('POST', '/v1/audiences/evaluate', c);
      expect(res.status, c.name).toBe(200);
      const answer = (await res.json()) as { valid: boolean; result?: boolean; issues?: Array<{ path: string }> };
      if (c.invalidPaths) {
        expect(answer.valid, c.name).toBe(false);
        for (const p of c.invalidPaths) expect(answer.issues?.map((i) => i.path), c.name).toContain(p);
      } else {
        expect(answer.valid, c.name).toBe(true);
        expect(answer.result, c.name).toBe(c.expected);
      }
    }
  });

  it('manages segment groups and audiences, and shows membership as it happens', async () => {
    const group = uid('grp').toLowerCase();
    const created = await send('POST', '/v1/segment-groups', { id: group, name: 'Loyalty' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: group, version: 1 });
    await expectError(await send('PUT', `/v1/segment-groups/${group}`, { id: `${group}-x`, name: 'Loyalty', version: 1 }), 400, 'VALIDATION');
    await expectError(await send('PUT', `/v1/segment-groups/${group}`, { name: 'Loyalty' }), 400, 'VALIDATION');
    const renamed = await send('PUT', `/v1/segment-groups/${group}`, { name: 'Loyalty tiers' }, { 'if-match': '"1"' });
    expect(((await renamed.json()) as { version: number }).version).toBe(2);
    await expectError(await send('PUT', `/v1/segment-groups/${group}`, { name: 'Stale', version: 1 }), 409, 'CONFLICT');

    const audience = uid('gold').toLowerCase();
    const bad = await expectError(
      await send('POST', '/v1/audiences', { id: audience, groupId: group, name: 'Gold', condition: { have: { trait: 'plan', op: 'eq', value: 'gold' } } }),
      400,
      'VALIDATION',
    );
    expect(bad.error.issues.map((i) => i.path)).toContain('condition.have.trait');
    const ok = await send('POST', '/v1/audiences', {
      id: audience,
      groupId: group,
      name: 'Gold',
      condition: { have: { trait: 'traits.tier', op: 'eq', value: 'gold' } },
    });
    expect(ok.status).toBe(201);

    const userId = uid('u');
    expect((await h.track('/v1/identify', { userId, traits: { tier: 'gold' } })).status).toBe(200);
    const profile = await h.adminJson<{ id: string; audiences: Array<{ id: string }> }>(`/v1/profiles?userId=${userId}`);
    expect(profile.body.audiences.map((a) => a.id)).toEqual([audience]);
    const mine = await h.adminJson<{ audiences: Array<{ id: string }> }>(`/v1/profiles/${profile.body.id}/audiences`);
    expect(mine.body.audiences.map((a) => a.id)).toEqual([audience]);
    const members = await h.adminJson<{ members: Array<{ profileId: string }>; next: string | null }>(`/v1/audiences/${audience}/members?limit=10`);
    expect(members.body.members.map((m) => m.profileId)).toEqual([profile.body.id]);

    expect((await h.track('/v1/identify', { userId, traits: { tier: 'silver' } })).status).toBe(200);
    const after = await h.adminJson<{ audiences: Array<{ id: string }> }>(`/v1/profiles/${profile.body.id}/audiences`);
    expect(after.body.audiences).toEqual([]);

    // Export while the profile is a member, in both formats.
    expect((await h.track('/v1/identify', { userId, traits: { tier: 'gold', email: 'Exported@Example.com' } })).status).toBe(200);
    const ndjson = await send('GET', `/v1/audiences/${audience}/export`);
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await ndjson.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ audienceId: audience, profileId: profile.body.id, userId, email: 'exported@example.com' })]);
    const csv = await (await send('GET', `/v1/audiences/${audience}/export?format=csv`)).text();
    expect(csv.split('\n')[0]).toBe('profileId,since,userId,email,phone,anonymousIds');
    expect(csv).toContain(`${profile.body.id},`);
    await expectError(await send('GET', `/v1/audiences/${audience}/export?format=xml`), 400, 'VALIDATION');
    expect((await h.track('/v1/identify', { userId, traits: { tier: 'silver' } })).status).toBe(200);

    const preview = await send('POST', '/v1/audiences/preview', { condition: { have: { trait: 'traits.tier', op: 'eq', value: 'silver' } } });
    expect(await preview.json()).toMatchObject({ matching: 1, examples: [profile.body.id] });
    const status = await h.adminJson<{ state: string }>('/v1/audiences/recompute');
    expect(['running', 'done']).toContain(status.body.state);

    await expectError(await send('DELETE', `/v1/segment-groups/${group}`), 409, 'CONFLICT');
    expect((await send('DELETE', `/v1/audiences/${audience}`)).status).toBe(204);
    expect((await send('DELETE', `/v1/segment-groups/${group}`)).status).toBe(204);
    await expectError(await send('GET', `/v1/audiences/${audience}`), 404, 'NOT_FOUND');
  });

  it('keeps the audience API behind the secret key', async () => {
    const res = await fetch(`${h.url}/v1/audiences`, { headers: { authorization: `Basic ${Buffer.from('wk_test_write_key_0123456789abcdef:').toString('base64')}` } });
    expect(res.status).toBe(403);
    expect((await fetch(`${h.url}/v1/segment-groups`)).status).toBe(401);
  });
});
