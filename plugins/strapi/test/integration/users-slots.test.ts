import { createHmac } from 'node:crypto';
import { chooseVariant } from '@attune/render';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, adminToken, type BootedStrapi, bootStrapi, type Engine, engineGet, enginePost, invokeJob, startEngine } from './harness.ts';

const hmac = (v: string) => createHmac('sha256', 'attune-demo-hash-secret').update(v).digest('hex');

describe('users as profiles, erasure, and personalized slots in a real Strapi 5 app', () => {
  let engine: Engine;
  let app: BootedStrapi;
  let api: ReturnType<typeof adminApi>;

  beforeAll(async () => {
    engine = await startEngine();
    app = await bootStrapi({ engineUrl: engine.url });
    api = adminApi(app, await adminToken(app));
  });
  afterAll(async () => {
    await app?.stop();
    await engine?.close();
  });

  it('exports users-permissions users as profiles identified by email and user id, with hashing', async () => {
    // Field rules from the settings page on top of the code's: hash the user name.
    const saved = await api('PUT', '/attune/settings', { fields: { user: { default: 'skip', fields: { email: { include: true }, username: { rename: 'name', transform: 'hash' } } } } });
    expect(saved.status).toBe(200);
    // Registration through Strapi's own REST API.
    const res = await fetch(`${app.url}/api/auth/local/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'Ada Lovelace', email: 'ada@example.com', password: 'Secret-pass-1' }),
    });
    expect(res.status).toBe(200);
    const { user } = (await res.json()) as { user: { id: number; documentId: string } };

    await invokeJob(app.strapi, 'attune-export-users');
    const run = (await app.strapi.plugin('attune').service('exporter').history('users'))[0];
    expect(run).toMatchObject({ section: 'users', status: 'succeeded', items: 1 });

    const byEmail = await engineGet<{ id: string; traits: Record<string, unknown>; identities?: unknown }>(engine, '/v1/profiles?email=ada@example.com');
    expect(byEmail.status).toBe(200);
    const byUserId = await engineGet<{ id: string }>(engine, `/v1/profiles?userId=${user.documentId}`);
    expect(byUserId.body.id).toBe(byEmail.body.id);
    expect(byEmail.body.traits).toMatchObject({ email: 'ada@example.com', name: hmac('ada lovelace') });
    // Private attributes never leave Strapi, and skipped ones neither.
    expect(Object.keys(byEmail.body.traits)).not.toContain('password');
    expect(Object.keys(byEmail.body.traits)).not.toContain('provider');
  });

  it('deleting a user in Strapi erases the profile in Attune', async () => {
    const user = await app.strapi.db.query('plugin::users-permissions.user').findOne({ where: { email: 'ada@example.com' } });
    await app.strapi.plugin('users-permissions').service('user').remove({ id: user.id });
    expect((await engineGet(engine, '/v1/profiles?email=ada@example.com')).status).toBe(404);
    expect((await engineGet(engine, `/v1/profiles?userId=${user.documentId}`)).status).toBe(404);
    // The outbox keeps the deletion; the next users run sends it again, harmlessly.
    await invokeJob(app.strapi, 'attune-export-users');
    expect((await app.strapi.plugin('attune').service('exporter').history('users'))[0]).toMatchObject({ status: 'succeeded', items: 1, deleted: 1 });
  });

  it('resolves a personalized slot to the audience variant through REST and @attune/render, and previews as an audience', async () => {
    // An audience in the engine and a visitor who belongs to it.
    expect((await enginePost(engine, '/v1/segment-groups', { id: 'strapi', name: 'Strapi' })).status).toBe(201);
    expect((await enginePost(engine, '/v1/audiences', { id: 'runners', groupId: 'strapi', name: 'Runners', condition: { have: { trait: 'traits.sport', op: 'eq', value: 'running' } } })).status).toBe(201);
    expect((await enginePost(engine, '/v1/identify', { userId: 'visitor-1', traits: { sport: 'running' } }, 'write')).status).toBe(200);

    // The editor's live list of bindings comes from the engine.
    const bindings = await api<{ audiences: { kind: string; id: string; name: string }[] }>('GET', '/attune/bindings');
    expect(bindings.body.audiences).toEqual([{ kind: 'audience', id: 'runners', name: 'Runners' }]);
    const runners = bindings.body.audiences[0];

    const page = (await app.strapi.documents('api::landing-page.landing-page' as never).create({
      data: {
        title: 'Home',
        slug: 'home',
        hero: { heading: 'Welcome' },
        heroVariants: [
          { label: 'Runners', binding: runners, content: { heading: 'New trail shoes', ctaLabel: 'Shop trail' } },
          { label: 'Everyone', binding: { kind: 'default' }, content: { heading: 'Spring collection' } },
        ],
      },
    } as never)) as { documentId: string };
    await app.strapi.documents('api::landing-page.landing-page' as never).publish({ documentId: page.documentId } as never);

    const rest = await fetch(`${app.url}/api/landing-pages?filters[slug][$eq]=home&populate[heroVariants][populate]=content&populate[hero]=true`);
    expect(rest.status).toBe(200);
    const body = (await rest.json()) as { data: { heroVariants: { label: string; binding: unknown; content: { heading: string } }[] }[] };
    const variants = body.data[0]?.heroVariants ?? [];
    expect(variants.map((v) => [v.label, v.binding])).toEqual([
      ['Runners', { kind: 'audience', id: 'runners', name: 'Runners' }],
      ['Everyone', { kind: 'default' }],
    ]);

    // GraphQL carries the same variants and bindings.
    const gql = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ landingPages(filters: { slug: { eq: "home" } }) { title heroVariants { label binding content { heading } } } }' }),
    });
    const graph = (await gql.json()) as { data?: { landingPages: { heroVariants: { label: string; binding: unknown; content: { heading: string } }[] }[] }; errors?: unknown };
    expect(graph.errors).toBeUndefined();
    expect(graph.data?.landingPages[0]?.heroVariants).toEqual([
      { label: 'Runners', binding: { kind: 'audience', id: 'runners', name: 'Runners' }, content: { heading: 'New trail shoes' } },
      { label: 'Everyone', binding: { kind: 'default' }, content: { heading: 'Spring collection' } },
    ]);

    // What a site does: the visitor's snapshot from the engine, then @attune/render chooses.
    const snapshot = await enginePost<{ audiences: string[]; assignments: Record<string, { variant: string }> }>(engine, '/v1/decide/snapshot', { userId: 'visitor-1' });
    expect(snapshot.body.audiences).toEqual(['runners']);
    expect(chooseVariant(variants, snapshot.body)).toMatchObject({ reason: 'audience', variant: { content: { heading: 'New trail shoes' } } });
    const anonymous = await enginePost<{ audiences: string[] }>(engine, '/v1/decide/snapshot', { anonymousId: 'someone-new' });
    expect(chooseVariant(variants, anonymous.body).variant?.content.heading).toBe('Spring collection');

    // Preview "as" an audience in the admin.
    const as = await api<{ slots: Record<string, { reason: string; variant: { label: string } }> }>('GET', `/attune/preview/api::landing-page.landing-page/${page.documentId}?audience=runners`);
    expect(as.body.slots.heroVariants).toMatchObject({ reason: 'audience', variant: { label: 'Runners' } });
    const asNobody = await api<{ slots: Record<string, { reason: string; variant: { label: string } }> }>('GET', `/attune/preview/api::landing-page.landing-page/${page.documentId}`);
    expect(asNobody.body.slots.heroVariants).toMatchObject({ reason: 'default', variant: { label: 'Everyone' } });
  });
});
