import { createHmac } from 'node:crypto';
import { type CatalogItemInput, type ExportCheckpoint, runExport } from '@attune/core';
import type { Core } from '@strapi/strapi';
import { SECTIONS, type Section } from '../config.ts';
import { OUTBOX_UID, RUN_UID } from '../content-types/index.ts';
import { createEngineClient, EngineError } from './engine.ts';
import type { LeaseService } from './lease.ts';
import { USER_UID } from './schemas.ts';
import type { EffectiveSettings, SettingsService } from './settings.ts';
import { createStrapiSource } from './sources.ts';

export interface RunRecord {
  id: number;
  section: Section;
  streamId: string;
  mode: string;
  trigger: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  items: number;
  batches: number;
  deleted: number;
  durationMs: number | null;
  progress: { contentType: string; items: number; batches: number } | null;
  errors: { contentType: string; message: string }[] | null;
}

export type RunOutcome = { status: 'skipped'; reason: string } | { status: 'started'; run: RunRecord; done: Promise<RunRecord> };

/** The identify call a users export sends for one user (fields already customized). */
export function identifyCall(item: CatalogItemInput): Record<string, unknown> {
  return {
    type: 'identify',
    userId: item.id,
    traits: Object.fromEntries((item.fields ?? []).map((f) => [f.name, f.value])),
    messageId: `strapi-user-${item.id}-${item.updatedAt}`,
    timestamp: item.updatedAt,
  };
}

export function createExporter(strapi: Core.Strapi, deps: { settings: SettingsService; lease: LeaseService }) {
  const store = (key: string) => strapi.store({ type: 'plugin', name: 'attune', key });
  const runs = () => strapi.db.query(RUN_UID);

  /** HMAC-SHA256 with the configured key: a hash of personal data without a secret key could be reversed by guessing. */
  function hasher(s: EffectiveSettings) {
    return (value: string) => {
      if (!s.hashSecret) throw new Error('the hash transform needs a key: set hashSecret in config/plugins (ATTUNE_HASH_SECRET in the example app)');
      return createHmac('sha256', s.hashSecret).update(value).digest('hex');
    };
  }

  /** Sends a batch: catalog upserts and tombstones, or for users identify calls and erasures. */
  function sinkFor(section: Section, s: EffectiveSettings, runId: string) {
    const engine = createEngineClient(s);
    const streamId = s.exports[section].streamId;
    if (section !== 'users') return (items: CatalogItemInput[]) => engine.postCatalog(streamId, items, runId).then(() => undefined);
    return async (items: CatalogItemInput[]) => {
      const live = items.filter((i) => !i.deleted);
      if (live.length > 0) await engine.identify(live.map(identifyCall));
      for (const gone of items.filter((i) => i.deleted)) await eraseUser(engine, gone.id);
    };
  }

  async function eraseUser(engine: ReturnType<typeof createEngineClient>, userId: string) {
    try {
      await engine.erase({ type: 'userId', value: userId });
    } catch (e) {
      // Never exported, or erased already: nothing left to erase.
      if (!(e instanceof EngineError && e.status === 404)) throw e;
    }
  }

  /**
   * One content type of a section through the core's runExport. Its checkpoint (cursor saved after
   * each acknowledged batch) lives in the plugin store, so a run cut short resumes where it stopped.
   */
  async function exportType(section: Section, uid: string, s: EffectiveSettings, run: RunRecord, totals: { items: number; batches: number; deleted: number }, lease: string) {
    const options = s.exports[section];
    const source = createStrapiSource(strapi, { uid, settings: options, rules: s.fields, hash: hasher(s), mediaBaseUrl: strapi.config.get('server.url') || undefined });
    const key = `checkpoint:${section}:${uid}`;
    const sink = sinkFor(section, s, String(run.id));
    let writes = Promise.resolve();
    const result = await runExport({
      source,
      sink: async (items) => {
        await sink(items);
        totals.items += items.length;
        totals.deleted += items.filter((i) => i.deleted === true).length;
        totals.batches += 1;
      },
      state: {
        load: async () => ((await store(key).get({})) as ExportCheckpoint | null) ?? null,
        save: async (checkpoint) => {
          await store(key).set({ value: checkpoint });
        },
      },
      mode: options.mode,
      batchSize: options.batchSize,
      newRunId: () => String(run.id),
      onProgress: () => {
        const progress = { contentType: uid, ...totals };
        writes = writes.then(async () => {
          await runs().update({ where: { id: run.id }, data: { ...totals, progress } });
          await deps.lease.renew(lease, s.leaseTtlMs);
        });
      },
    });
    await writes;
    return result;
  }

  /**
   * Drops outbox rows every section exporting `uid` has passed: older than the oldest completed
   * checkpoint among them. Rows stay while any such section has not completed a run since.
   */
  async function pruneOutbox(uid: string, s: EffectiveSettings) {
    const sections = SECTIONS.filter((x) => s.exports[x].enabled && (x === 'users' ? uid === USER_UID : s.exports[x].contentTypes.includes(uid)));
    let oldest: string | null = null;
    for (const x of sections) {
      const checkpoint = (await store(`checkpoint:${x}:${uid}`).get({})) as ExportCheckpoint | null;
      if (!checkpoint?.complete || !checkpoint.cursor) return;
      if (oldest === null || checkpoint.cursor.updatedAt < oldest) oldest = checkpoint.cursor.updatedAt;
    }
    if (oldest !== null) await strapi.db.query(OUTBOX_UID).deleteMany({ where: { target: uid, changedAt: { $lt: new Date(oldest) } } });
  }

  async function execute(section: Section, s: EffectiveSettings, run: RunRecord, lease: string): Promise<RunRecord> {
    const started = Date.now();
    const totals = { items: 0, batches: 0, deleted: 0 };
    const errors: { contentType: string; message: string }[] = [];
    const resumed: string[] = [];
    const uids = section === 'users' ? [USER_UID] : [...s.exports[section].contentTypes];
    const invalid = deps.settings.builderRuleIssues();
    if (invalid.length > 0) {
      errors.push(...invalid.map((i) => ({ contentType: i.path, message: `${i.message}; fix the field's Attune options in the Content-Type Builder` })));
      uids.length = 0;
    }
    try {
      for (const uid of uids) {
        try {
          const r = await exportType(section, uid, s, run, totals, lease);
          if (r.resumed) resumed.push(`${uid} (run ${r.runId})`);
          if (r.complete) await pruneOutbox(uid, s);
        } catch (e) {
          errors.push({ contentType: uid, message: e instanceof Error ? e.message : String(e) });
          strapi.log.error(`[attune] ${section} export of ${uid} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    } finally {
      await deps.lease.release(lease);
    }
    return (await runs().update({
      where: { id: run.id },
      data: {
        ...totals,
        status: errors.length > 0 ? 'failed' : 'succeeded',
        finishedAt: new Date(),
        durationMs: Date.now() - started,
        errors: errors.length > 0 ? errors : null,
        progress: { resumed },
      },
    })) as RunRecord;
  }

  return {
    /**
     * Starts a run of a section unless another instance (or run) holds its lease. Resolves once
     * the run is recorded; `done` settles when it ends.
     */
    async start(section: Section, trigger: 'cron' | 'manual' | 'test'): Promise<RunOutcome> {
      const s = await deps.settings.get();
      const lease = `export:${section}`;
      if (!(await deps.lease.acquire(lease, s.leaseTtlMs))) return { status: 'skipped', reason: `another run holds the ${section} export lease` };
      let run: RunRecord;
      try {
        // Holding the lease, any run of this section still marked running was left by an instance that stopped.
        await runs().updateMany({
          where: { section, status: 'running' },
          data: { status: 'failed', finishedAt: new Date(), errors: [{ contentType: '*', message: 'interrupted: the instance running it stopped; the next run resumes from its checkpoint' }] },
        });
        run = (await runs().create({
          data: { section, streamId: s.exports[section].streamId, mode: s.exports[section].mode, trigger, status: 'running', holder: deps.lease.holder, startedAt: new Date(), items: 0, batches: 0, deleted: 0 },
        })) as RunRecord;
      } catch (e) {
        await deps.lease.release(lease);
        throw e;
      }
      return { status: 'started', run, done: execute(section, s, run, lease) };
    },

    /** Runs a section to the end (cron jobs and tests). */
    async run(section: Section, trigger: 'cron' | 'manual' | 'test' = 'manual') {
      const outcome = await this.start(section, trigger);
      return outcome.status === 'skipped' ? outcome : { status: 'finished' as const, run: await outcome.done };
    },

    async history(section?: string, limit = 20): Promise<RunRecord[]> {
      return (await runs().findMany({ where: section ? { section } : {}, orderBy: [{ id: 'desc' }], limit })) as RunRecord[];
    },
    async get(id: number): Promise<RunRecord | null> {
      return (await runs().findOne({ where: { id } })) as RunRecord | null;
    },
    eraseUser: async (userId: string) => eraseUser(createEngineClient(await deps.settings.get()), userId),
  };
}

export type Exporter = ReturnType<typeof createExporter>;
