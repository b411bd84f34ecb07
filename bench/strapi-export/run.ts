/**
 * Strapi export benchmark. A real Strapi 5 app (examples/strapi-app, SQLite) with the Attune
 * plugin in this process, an Attune server in a child process. One run measures, side by side:
 *  - baseline: reading every published article page by page through Strapi's query engine, the
 *    way the export does, without field rules or sending (the floor of an export's cost);
 *  - full export: every article through the plugin (field rules, catalog batches, checkpoints);
 *  - incremental export: after `--changed` articles are edited and republished through the
 *    Document Service.
 * It prints items/s (medians over rounds), the ratio to the baseline, and the resident memory
 * of this (the Strapi) process during the exports.
 *
 *   pnpm bench:strapi-export [-- --articles 10000 --changed 1000 --rounds 3 --batch 500]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { bootStrapi, SECRET_KEY, WRITE_KEY } from '@attune/strapi-plugin/testing';
import { fmt, median, startChild, stopChild } from '../lib.ts';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    articles: { type: 'string', default: '10000' },
    changed: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '500' },
  },
});
const ARTICLES = Number(args.articles);
const CHANGED = Number(args.changed);
const ROUNDS = Number(args.rounds);
const BATCH = Number(args.batch);
const UID = 'api::article.article';

const engine = await startChild('strapi-export/engine.ts', { ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY });
const app = await bootStrapi({ engineUrl: `http://127.0.0.1:${engine.port}`, env: { STRAPI_LOG_LEVEL: 'error' } });
const { strapi } = app;

/** Samples this process's RSS every 50 ms while `fn` runs. */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number; rssMax: number }> {
  let rssMax = process.memoryUsage().rss;
  const timer = setInterval(() => {
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }, 50);
  const t0 = performance.now();
  try {
    const result = await fn();
    return { result, ms: performance.now() - t0, rssMax: Math.max(rssMax, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

try {
  // Seed: articles inserted in bulk through the query engine's connection (the Document
  // Service would take minutes for 10,000), shaped as Strapi writes them: a published row each.
  const meta = strapi.db.metadata.get(UID);
  const col = (a: string) => (meta.attributes[a] as { columnName?: string }).columnName ?? a;
  const now = Date.now();
  const rows = Array.from({ length: ARTICLES }, (_, i) => {
    const t = new Date(now - (ARTICLES - i) * 1000);
    return {
      [col('documentId')]: randomBytes(12).toString('hex'),
      [col('title')]: `Article ${i}`,
      [col('slug')]: `article-${i}`,
      [col('summary')]: `Summary of article ${i}, long enough to look like one.`,
      [col('body')]: JSON.stringify([{ type: 'paragraph', children: [{ type: 'text', text: `Body of article ${i}. `.repeat(20) }] }]),
      [col('authorEmail')]: `author${i % 100}@example.com`,
      [col('readingMinutes')]: i % 15,
      [col('createdAt')]: t.getTime(),
      [col('updatedAt')]: t.getTime(),
      [col('publishedAt')]: t.getTime(),
    };
  });
  const seed0 = performance.now();
  for (let i = 0; i < rows.length; i += 500) await strapi.db.connection(meta.tableName).insert(rows.slice(i, i + 500));
  console.log(`seeded ${fmt(ARTICLES)} articles in ${fmt(performance.now() - seed0)} ms`);

  const settings = strapi.plugin('attune').service('settings');
  const exporter = strapi.plugin('attune').service('exporter');
  const setMode = (mode: 'full' | 'incremental') => settings.update({ exports: { content: { contentTypes: [UID], batchSize: BATCH, mode, streamId: 'bench' } } });

  const baseline: number[] = [];
  const full: number[] = [];
  const incremental: number[] = [];
  let rssFull = 0;
  let rssIncremental = 0;
  const rssIdle = process.memoryUsage().rss;
  for (let round = 0; round < ROUNDS; round++) {
    // Baseline: the same pages read through the query engine, nothing done with them.
    const b = await measured(async () => {
      let n = 0;
      let after: { t: string; id: string } | null = null;
      for (;;) {
        const page = (await strapi.db.query(UID).findMany({
          where: after ? { publishedAt: { $notNull: true }, $or: [{ publishedAt: { $gt: new Date(after.t) } }, { publishedAt: new Date(after.t), documentId: { $gt: after.id } }] } : { publishedAt: { $notNull: true } },
          orderBy: [{ publishedAt: 'asc' }, { documentId: 'asc' }],
          limit: BATCH,
          populate: { cover: true, products: true },
        })) as { publishedAt: string; documentId: string }[];
        n += page.length;
        JSON.stringify(page);
        const last = page[page.length - 1];
        if (!last || page.length < BATCH) break;
        after = { t: new Date(last.publishedAt).toISOString(), id: last.documentId };
      }
      return n;
    });
    baseline.push((b.result / b.ms) * 1000);

    await setMode('full');
    const f = await measured(() => exporter.run('content', 'manual'));
    const fr = f.result as { status: string; run: { items: number; status: string; errors: unknown } };
    if (fr.status !== 'finished' || fr.run.status !== 'succeeded') throw new Error(`full export failed: ${JSON.stringify(fr)}`);
    full.push((fr.run.items / f.ms) * 1000);
    rssFull = Math.max(rssFull, f.rssMax);

    // Edit and republish some articles through the Document Service, then export the changes.
    await setMode('incremental');
    const picked = (await strapi.db.query(UID).findMany({ where: { publishedAt: { $notNull: true } }, select: ['documentId'], limit: CHANGED, offset: round * CHANGED })) as { documentId: string }[];
    for (const p of picked) {
      await strapi.documents(UID as never).update({ documentId: p.documentId, data: { title: `Edited in round ${round}` } } as never);
      await strapi.documents(UID as never).publish({ documentId: p.documentId } as never);
    }
    const inc = await measured(() => exporter.run('content', 'manual'));
    const ir = inc.result as { status: string; run: { items: number; status: string } };
    if (ir.status !== 'finished' || ir.run.status !== 'succeeded' || ir.run.items !== picked.length) throw new Error(`incremental export sent ${ir.run?.items} of ${picked.length}: ${JSON.stringify(ir)}`);
    incremental.push((ir.run.items / inc.ms) * 1000);
    rssIncremental = Math.max(rssIncremental, inc.rssMax);
    console.log(`round ${round + 1}: baseline ${fmt(baseline[round] as number)} items/s, full ${fmt(full[round] as number)} items/s (${fmt(f.ms)} ms), incremental ${fmt(incremental[round] as number)} items/s (${picked.length} changed, ${fmt(inc.ms)} ms)`);
  }
  const mb = (n: number) => `${fmt(n / 1024 / 1024)} MB`;
  console.log(`\nStrapi export, ${fmt(ARTICLES)} articles, batch ${BATCH}, medians of ${ROUNDS} rounds:`);
  console.log(`  baseline read (query engine only): ${fmt(median(baseline))} items/s`);
  console.log(`  first full export (empty catalog): ${fmt(full[0] as number)} items/s  (${((full[0] as number) / (baseline[0] as number)).toFixed(2)}x that round's baseline read)`);
  console.log(`  full export:        ${fmt(median(full))} items/s  (${(median(full) / median(baseline)).toFixed(2)}x the baseline read; later rounds re-send items the catalog already holds)`);
  console.log(`  incremental export: ${fmt(median(incremental))} items/s  (${fmt(CHANGED)} changed per round; ${(median(incremental) / median(baseline)).toFixed(2)}x the baseline read)`);
  console.log(`  Strapi process RSS: ${mb(rssIdle)} idle after seeding, peak ${mb(rssFull)} during full exports, ${mb(rssIncremental)} during incremental ones`);
} finally {
  await app.stop();
  await stopChild(engine.child);
}
