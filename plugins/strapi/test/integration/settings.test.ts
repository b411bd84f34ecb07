import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, adminToken, type BootedStrapi, bootStrapi, type Engine, SECRET_KEY, startEngine } from './harness.ts';

describe('settings, connection test and RBAC in a real Strapi 5 app', () => {
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

  it('never returns the secret key in full, and keeps it when the masked value comes back', async () => {
    const view = await api<{ secretKey: string; writeKey: string; engineUrl: string }>('GET', '/attune/settings');
    expect(view.status).toBe(200);
    expect(view.body.engineUrl).toBe(engine.url);
    expect(view.body.secretKey).toBe(`sk_••••${SECRET_KEY.slice(-4)}`);
    expect(JSON.stringify(view.body)).not.toContain(SECRET_KEY);
    const saved = await api<{ secretKey: string }>('PUT', '/attune/settings', { engineUrl: engine.url, secretKey: view.body.secretKey });
    expect(saved.status).toBe(200);
    const test = await api<{ ok: boolean; checks: { name: string; ok: boolean }[] }>('POST', '/attune/settings/test', {});
    expect(test.body).toMatchObject({ ok: true, checks: [{ name: 'secret key', ok: true }, { name: 'write key', ok: true }] });
  });

  it('the connection test says which key is wrong, and where the engine is not', async () => {
    const wrong = await api<{ ok: boolean; checks: { name: string; ok: boolean; message: string }[] }>('POST', '/attune/settings/test', { secretKey: 'sk_wrong_0000000000000000000' });
    expect(wrong.body.ok).toBe(false);
    expect(wrong.body.checks[0]).toMatchObject({ name: 'secret key', ok: false });
    expect(wrong.body.checks[0]?.message).toMatch(/401/);
    expect(wrong.body.checks[1]).toMatchObject({ name: 'write key', ok: true });
    const away = await api<{ ok: boolean; checks: { message: string }[] }>('POST', '/attune/settings/test', { engineUrl: 'http://127.0.0.1:9' });
    expect(away.body.ok).toBe(false);
    expect(away.body.checks[0]?.message).toMatch(/cannot be reached/);
  });

  it('rejects a bad cron pattern, an unknown content type and bad field rules with what and where', async () => {
    const cron = await api<{ error: { message: string } }>('PUT', '/attune/settings', { exports: { content: { cron: '*/70 * * *' } } });
    expect(cron.status).toBe(400);
    expect(cron.body.error.message).toMatch(/exports\.content\.cron: "\*\/70 \* \* \*" is not a valid cron pattern/);
    const type = await api<{ error: { message: string } }>('PUT', '/attune/settings', { exports: { products: { contentTypes: ['api::nope.nope'] } } });
    expect(type.status).toBe(400);
    expect(type.body.error.message).toContain('unknown content type "api::nope.nope"');
    const rules = await api<{ error: { message: string } }>('PUT', '/attune/settings', { fields: { article: { fields: { nope: { include: false } } } } });
    expect(rules.status).toBe(400);
    expect(rules.body.error.message).toMatch(/fields\.article.*nope/);
    expect((await api('PUT', '/attune/settings', { exports: { content: { batchSize: 7 } } })).status).toBe(200);
    const ok = await api<{ exports: { content: { cron: string; batchSize: number } } }>('PUT', '/attune/settings', { exports: { content: { cron: '0 */12 * * *' } } });
    // Saving one option of a section keeps the others saved before.
    expect(ok.body.exports.content).toMatchObject({ cron: '0 */12 * * *', batchSize: 7 });
    // The cron job follows the saved schedule.
    const jobs = app.strapi.cron.jobs as unknown as { name: string; options: unknown }[];
    expect(jobs.find((j) => j.name === 'attune-export-content')?.options).toBe('0 */12 * * *');
  });

  it('registers RBAC actions, and a role without them is refused', async () => {
    const actions = app.strapi.service('admin::permission').actionProvider.values().map((a: { actionId: string }) => a.actionId);
    expect(actions).toEqual(expect.arrayContaining(['plugin::attune.settings.read', 'plugin::attune.settings.update', 'plugin::attune.exports.run', 'plugin::attune.marketing.read']));
    // An Editor (a built-in role without the plugin's actions) cannot read the settings.
    const editor = await app.strapi.db.query('admin::role').findOne({ where: { code: 'strapi-editor' } });
    await app.strapi.service('admin::user').create({ email: 'editor@attune.local', firstname: 'E', lastname: 'D', password: 'Editor-pass-1', isActive: true, roles: [editor.id] });
    const editorApi = adminApi(app, await adminToken(app, 'editor@attune.local', 'Editor-pass-1'));
    expect((await editorApi('GET', '/attune/settings')).status).toBe(403);
    expect((await editorApi('POST', '/attune/exports/content/run')).status).toBe(403);
    // Granting the read action lets the role read, not edit.
    await app.strapi.service('admin::role').assignPermissions(editor.id, [{ action: 'plugin::attune.settings.read', subject: null, properties: {}, conditions: [] }]);
    expect((await editorApi('GET', '/attune/settings')).status).toBe(200);
    expect((await editorApi('PUT', '/attune/settings', { engineUrl: 'http://x.test' })).status).toBe(403);
  });
});
