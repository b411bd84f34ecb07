import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CatalogItem } from '@attune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, adminToken, type BootedStrapi, bootStrapi, type Engine, engineGet, invokeJob, startEngine } from './harness.ts';

const ARTICLE = 'api::article.article';
const HASH_SECRET = 'attune-demo-hash-secret';
const hmac = (v: string) => createHmac('sha256', HASH_SECRET).update(v).digest('hex');

interface Page {
  items: CatalogItem[];
  next: string | null;
}

describe('scheduled export from a real Strapi 5 app to a real Attune server', () => {
  let engine: Engine;
  let app: BootedStrapi;
  const docs = () => app.strapi.documents(ARTICLE as never);

  beforeAll(async () => {
    engine = await startEngine();
    app = await bootStrapi({ engineUrl: engine.url });
  });
  afterAll(async () => {
    await app?.stop();
    await engine?.close();
  });

  const catalog = async (stream: string, type: string) => {
    const all: CatalogItem[] = [];
    let after: string | null = null;
    do {
      const r: { status: number; body: Page } = await engineGet<Page>(engine, `/v1/catalog/${stream}?type=${type}&limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      expect(r.status).toBe(200);
      all.push(...r.body.items);
      after = r.body.next;
    } while (after);
    return all;
  };
  const item = async (stream: string, type: string, id: string, locale?: string) =>
    engineGet<CatalogItem & { error?: unknown }>(engine, `/v1/catalog/${stream}/items/${type}/${id}${locale ? `?locale=${locale}` : ''}`);

  it('exports exactly the customized fields with their metadata, published only, on the cron job', async () => {
    const product = (await app.strapi.documents('api::product.product' as never).create({ data: { name: 'Trail shoe', sku: 'TS-1', price: 120 } } as never)) as { documentId: string; id: number };
    await app.strapi.documents('api::product.product' as never).publish({ documentId: product.documentId } as never);
    const created = (await docs().create({
      data: {
        title: 'Running in the rain',
        slug: 'running-in-the-rain',
        summary: 'Wet feet',
        body: [
          { type: 'heading', level: 1, children: [{ type: 'text', text: 'Rain' }] },
          { type: 'paragraph', children: [{ type: 'text', text: 'Run ' }, { type: 'text', text: 'anyway', bold: true }, { type: 'text', text: '.' }] },
        ],
        authorEmail: 'Ada@Example.com',
        internalNotes: 'do not export',
        readingMinutes: 4,
        products: [product.documentId],
      },
    } as never)) as { documentId: string };
    await docs().publish({ documentId: created.documentId } as never);
    const draftOnly = (await docs().create({ data: { title: 'Unpublished draft' } } as never)) as { documentId: string };

    await invokeJob(app.strapi, 'attune-export-content');

    const got = await item('strapi-content', 'article', created.documentId);
    expect(got.status).toBe(200);
    const fields = [...got.body.fields].sort((a, b) => a.name.localeCompare(b.name));
    expect(fields).toEqual([
      { name: 'authorEmail', field: 'authorEmail', type: 'email', value: hmac('ada@example.com') },
      { name: 'body', field: 'body', type: 'blocks', value: 'Rain\nRun anyway.' },
      { name: 'cover', field: 'cover', type: 'media', value: null },
      { name: 'excerpt', field: 'summary', type: 'text', value: 'Wet feet' },
      { name: 'products', field: 'products', type: 'relation', value: [product.documentId] },
      { name: 'readingMinutes', field: 'readingMinutes', type: 'integer', value: 4 },
      { name: 'slug', field: 'slug', type: 'uid', value: 'running-in-the-rain' },
      { name: 'title', field: 'title', type: 'string', value: 'Running in the rain' },
    ]);
    expect(got.body).toMatchObject({ id: created.documentId, type: 'article' });
    expect((await item('strapi-content', 'article', draftOnly.documentId)).status).toBe(404);

    const runs = await app.strapi.plugin('attune').service('exporter').history('content');
    expect(runs[0]).toMatchObject({ section: 'content', trigger: 'cron', status: 'succeeded', items: 1, deleted: 0, errors: null });
    expect(runs[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it('sends only what changed since the last run, and deletions and unpublishing as tombstones', async () => {
    const a = (await docs().create({ data: { title: 'A' } } as never)) as { documentId: string };
    const b = (await docs().create({ data: { title: 'B' } } as never)) as { documentId: string };
    const c = (await docs().create({ data: { title: 'C' } } as never)) as { documentId: string };
    for (const d of [a, b, c]) await docs().publish({ documentId: d.documentId } as never);
    await invokeJob(app.strapi, 'attune-export-content');
    const before = (await app.strapi.plugin('attune').service('exporter').history('content'))[0];
    expect(before.items).toBe(3);

    // Changes between runs, through Strapi's own Document Service.
    await docs().update({ documentId: a.documentId, data: { title: 'A, edited' } } as never);
    await docs().publish({ documentId: a.documentId } as never);
    await docs().delete({ documentId: b.documentId } as never);
    await docs().unpublish({ documentId: c.documentId } as never);
    // The outbox is a table: the removals are recorded before any export runs.
    const outbox = await app.strapi.db.query('plugin::attune.outbox-entry').findMany({ where: { action: { $in: ['delete', 'unpublish'] } } });
    expect(outbox.map((o: { entryId: string; action: string }) => `${o.action}:${o.entryId}`).sort()).toEqual([`delete:${b.documentId}`, `unpublish:${c.documentId}`].sort());

    await invokeJob(app.strapi, 'attune-export-content');
    const run = (await app.strapi.plugin('attune').service('exporter').history('content'))[0];
    expect(run).toMatchObject({ status: 'succeeded', items: 3, deleted: 2 });

    expect((await item('strapi-content', 'article', a.documentId)).body.fields.find((f) => f.name === 'title')?.value).toBe('A, edited');
    expect((await item('strapi-content', 'article', b.documentId)).status).toBe(404);
    expect((await item('strapi-content', 'article', c.documentId)).status).toBe(404);
    const all = await catalog('strapi-content', 'article');
    expect(all.map((i) => i.id)).not.toContain(b.documentId);
    expect(all.map((i) => i.id)).not.toContain(c.documentId);
    // Nothing changed: the next run sends nothing.
    await invokeJob(app.strapi, 'attune-export-content');
    expect((await app.strapi.plugin('attune').service('exporter').history('content'))[0]).toMatchObject({ items: 0, status: 'succeeded' });
    // Once every section exporting articles has passed them, the outbox rows are pruned: only
    // the row at the checkpoint itself may stay.
    const checkpoint = (await app.strapi.store({ type: 'plugin', name: 'attune', key: `checkpoint:content:${ARTICLE}` }).get({})) as { cursor: { updatedAt: string } };
    const left = (await app.strapi.db.query('plugin::attune.outbox-entry').findMany({ where: { target: ARTICLE } })) as { changedAt: string }[];
    expect(left.length).toBeLessThan(outbox.length);
    for (const row of left) expect(Date.parse(row.changedAt)).toBeGreaterThanOrEqual(Date.parse(checkpoint.cursor.updatedAt));
  });

  it('exports drafts when a section asks for them: the Products section on its own stream', async () => {
    const api = adminApi(app, await adminToken(app));
    expect((await api('PUT', '/attune/settings', { exports: { products: { status: 'draft', batchSize: 2 } } })).status).toBe(200);
    const products = app.strapi.documents('api::product.product' as never);
    const draft = (await products.create({ data: { name: 'Prototype', sku: 'PR-1', description: 'Not *yet* on sale' } } as never)) as { documentId: string };
    await invokeJob(app.strapi, 'attune-export-products');
    const got = await item('strapi-products', 'product', draft.documentId, 'en');
    expect(got.status).toBe(200);
    expect(got.body.locale).toBe('en');
    expect(got.body.fields.find((f) => f.field === 'name')).toEqual({ name: 'name', field: 'name', type: 'string', value: 'Prototype' });
    // Editing the draft moves its updatedAt: the next incremental run sends it again.
    await products.update({ documentId: draft.documentId, data: { name: 'Prototype 2' } } as never);
    await invokeJob(app.strapi, 'attune-export-products');
    expect((await item('strapi-products', 'product', draft.documentId, 'en')).body.fields.find((f) => f.field === 'name')?.value).toBe('Prototype 2');
    const run = (await app.strapi.plugin('attune').service('exporter').history('products'))[0];
    expect(run).toMatchObject({ section: 'products', streamId: 'strapi-products', status: 'succeeded', items: 1 });
  });

  it('exports only the chosen locales, each as its own item, and deletes a locale with its tombstone', async () => {
    const api = adminApi(app, await adminToken(app));
    await app.strapi.plugin('i18n').service('locales').create({ code: 'fr', name: 'French (fr)' });
    expect((await api('PUT', '/attune/settings', { exports: { products: { status: 'published', locales: ['fr'], streamId: 'products-fr' } } })).status).toBe(200);
    const products = app.strapi.documents('api::product.product' as never);
    const en = (await products.create({ data: { name: 'Rain jacket', sku: 'RJ-1' } } as never)) as { documentId: string };
    await products.update({ documentId: en.documentId, locale: 'fr', data: { name: 'Veste de pluie', sku: 'RJ-1-FR' } } as never);
    await products.publish({ documentId: en.documentId, locale: '*' } as never);
    await invokeJob(app.strapi, 'attune-export-products');
    const fr = await item('products-fr', 'product', en.documentId, 'fr');
    expect(fr.body).toMatchObject({ id: en.documentId, locale: 'fr' });
    expect(fr.body.fields.find((f) => f.field === 'name')?.value).toBe('Veste de pluie');
    expect((await item('products-fr', 'product', en.documentId, 'en')).status).toBe(404);

    await products.delete({ documentId: en.documentId, locale: 'fr' } as never);
    await invokeJob(app.strapi, 'attune-export-products');
    expect((await item('products-fr', 'product', en.documentId, 'fr')).status).toBe(404);
    expect((await app.strapi.plugin('attune').service('exporter').history('products'))[0]).toMatchObject({ status: 'succeeded', items: 1, deleted: 1 });
  });

  it('refuses to export while a Content-Type Builder option does not fit its field, saying which', async () => {
    // What the builder writes into the schema: a transform that does not apply to a string.
    const title = (app.strapi.contentTypes[ARTICLE as never] as { attributes: Record<string, { pluginOptions?: unknown }> }).attributes.title as { pluginOptions?: unknown };
    title.pluginOptions = { attune: { transform: 'media-to-url', rename: '' } };
    try {
      const view = await app.strapi.plugin('attune').service('settings').view();
      expect(view.builderIssues).toEqual([{ path: 'Content-Type Builder pluginOptions.attune.article.fields.title.transform', message: expect.stringContaining('media-to-url') }]);
      const outcome = await app.strapi.plugin('attune').service('exporter').run('content', 'manual');
      expect(outcome.run).toMatchObject({ status: 'failed', items: 0 });
      expect(outcome.run.errors[0].message).toContain('fix the field');
      // `skip` from the builder's checkbox excludes the field.
      title.pluginOptions = { attune: { skip: true } };
      expect((await app.strapi.plugin('attune').service('settings').get()).fields.article.fields.title).toEqual({ include: false });
    } finally {
      title.pluginOptions = undefined;
    }
  });

  it('does not run while another instance holds the lease', async () => {
    const exporter = app.strapi.plugin('attune').service('exporter');
    const runsBefore = (await exporter.history('content', 100)).length;
    await app.strapi.db.query('plugin::attune.lease').updateMany({ where: { name: 'export:content' }, data: { holder: 'other-instance', expiresAt: new Date(Date.now() + 60_000) } });
    expect(await exporter.run('content', 'cron')).toEqual({ status: 'skipped', reason: 'another run holds the content export lease' });
    await invokeJob(app.strapi, 'attune-export-content');
    expect((await exporter.history('content', 100)).length).toBe(runsBefore);
    // Once it expires, this instance takes over.
    await app.strapi.db.query('plugin::attune.lease').updateMany({ where: { name: 'export:content' }, data: { expiresAt: new Date(Date.now() - 1) } });
    expect((await exporter.run('content', 'cron')).status).toBe('finished');
  });

  it('a run killed midway resumes after the last acknowledged batch, with no duplicates or gaps', async () => {
    const api = adminApi(app, await adminToken(app));
    // A proxy in front of the engine: it forwards the third catalog batch, then drops the
    // connection before Strapi sees the acknowledgement, and every catalog request after it,
    // the way an engine that crashed mid-request and stays down would.
    const posted: string[][] = [];
    let dropAt = 3;
    const proxy: Server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const upstream = await fetch(`${engine.url}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, ...(body.length > 0 ? { body } : {}) });
      const text = await upstream.text();
      if (req.method === 'POST' && req.url?.startsWith('/v1/catalog/')) {
        posted.push((JSON.parse(body.toString()) as { items: { id: string }[] }).items.map((i) => i.id));
        if (dropAt > 0 && posted.length >= dropAt) {
          req.socket.destroy();
          return;
        }
      }
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      expect((await api('PUT', '/attune/settings', { engineUrl: proxyUrl, exports: { content: { batchSize: 5, streamId: 'resume-test', mode: 'full' } } })).status).toBe(200);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const d = (await docs().create({ data: { title: `Bulk ${i}` } } as never)) as { documentId: string };
        await docs().publish({ documentId: d.documentId } as never);
        ids.push(d.documentId);
      }
      const total = (await app.strapi.db.query(ARTICLE).count({ where: { publishedAt: { $notNull: true } } })) as number;
      // A full run also sends the tombstones of the earlier deletion and unpublishing.
      const tombstones = (await app.strapi.db.query('plugin::attune.outbox-entry').count({ where: { target: ARTICLE, action: { $in: ['delete', 'unpublish'] } } })) as number;

      await invokeJob(app.strapi, 'attune-export-content');
      const killed = (await app.strapi.plugin('attune').service('exporter').history('content'))[0];
      expect(killed.status).toBe('failed');
      expect(killed.errors[0].message).toMatch(/cannot be reached/);
      expect(killed.items).toBe(10);
      const acked = posted.slice(0, 2).flat();
      expect(posted.length).toBe(4); // the third batch, and its one retry

      dropAt = -1;
      posted.length = 0;
      await invokeJob(app.strapi, 'attune-export-content');
      const resumed = (await app.strapi.plugin('attune').service('exporter').history('content'))[0];
      expect(resumed.status).toBe('succeeded');
      expect(resumed.progress.resumed).toHaveLength(1);
      const resent = posted.flat();
      // Nothing acknowledged is sent again; only the unacknowledged batch and the rest are.
      expect(resent.filter((id) => acked.includes(id))).toEqual([]);
      expect(resent.length).toBe(total + tombstones - 10);
      const stored = await catalog('resume-test', 'article');
      expect(stored.length).toBe(total);
      expect(new Set(stored.map((i) => i.id)).size).toBe(total);
      for (const id of ids) expect(stored.map((i) => i.id)).toContain(id);
    } finally {
      await api('PUT', '/attune/settings', { engineUrl: engine.url, exports: { content: { batchSize: 100, streamId: 'strapi-content', mode: 'incremental' } } });
      await new Promise((r) => proxy.close(r));
    }
  });
});
