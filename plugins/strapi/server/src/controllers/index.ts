import { isAttuneError, wilsonInterval } from '@attune/core';
import type { Core } from '@strapi/strapi';
import { SECTIONS, type Section } from '../config.ts';
import { createEngineClient, EngineError } from '../services/engine.ts';
import type { ErasureService } from '../services/erasure.ts';
import type { Exporter } from '../services/exporter.ts';
import { previewDocument } from '../services/preview.ts';
import { SettingsError, type SettingsService } from '../services/settings.ts';

// Koa's context, as far as these handlers use it.
export interface Ctx {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  request: { body?: unknown };
  body: unknown;
  status: number;
}

const settingsOf = (strapi: Core.Strapi) => strapi.plugin('attune').service('settings') as SettingsService;
const exporterOf = (strapi: Core.Strapi) => strapi.plugin('attune').service('exporter') as Exporter;

/** Engine and validation errors become answers that say what was wrong, not a bare 500. */
async function answer(ctx: Ctx, fn: () => Promise<unknown>) {
  try {
    ctx.body = await fn();
  } catch (e) {
    if (e instanceof SettingsError) {
      ctx.status = 400;
      ctx.body = { error: { status: 400, name: 'ValidationError', message: e.message, details: { errors: e.issues } } };
    } else if (e instanceof EngineError) {
      ctx.status = e.status && e.status < 500 ? e.status : 502;
      ctx.body = { error: { status: ctx.status, name: 'EngineError', message: e.message, details: e.body ?? {} } };
    } else throw e;
  }
}

const settings = ({ strapi }: { strapi: Core.Strapi }) => ({
  get: (ctx: Ctx) => answer(ctx, () => settingsOf(strapi).view()),
  update: (ctx: Ctx) =>
    answer(ctx, async () => {
      const view = await settingsOf(strapi).update(ctx.request.body);
      await strapi.plugin('attune').service('schedule').reschedule();
      return view;
    }),
  /** Tests the saved settings, or the ones in the body before they are saved (a masked key means the saved one). */
  test: (ctx: Ctx) =>
    answer(ctx, async () => {
      const saved = await settingsOf(strapi).get();
      const body = (ctx.request.body ?? {}) as { engineUrl?: string; secretKey?: string; writeKey?: string };
      const pick = (v: string | undefined, fallback: string) => (v && !v.includes('••••') ? v : fallback);
      return createEngineClient({
        engineUrl: pick(body.engineUrl, saved.engineUrl),
        secretKey: pick(body.secretKey, saved.secretKey),
        writeKey: pick(body.writeKey, saved.writeKey),
      }).test();
    }),
});

const exportsController = ({ strapi }: { strapi: Core.Strapi }) => ({
  history: (ctx: Ctx) => answer(ctx, async () => ({ runs: await exporterOf(strapi).history(ctx.query.section, Number(ctx.query.limit ?? 20)) })),
  get: (ctx: Ctx) =>
    answer(ctx, async () => {
      const run = await exporterOf(strapi).get(Number(ctx.params.id));
      if (!run) {
        ctx.status = 404;
        return { error: { status: 404, name: 'NotFoundError', message: `no export run ${ctx.params.id}` } };
      }
      return run;
    }),
  /** "Run now": answers at once with the run; its progress is read from GET /exports/runs/:id. */
  run: (ctx: Ctx) =>
    answer(ctx, async () => {
      const section = ctx.params.section as Section;
      if (!SECTIONS.includes(section)) {
        ctx.status = 400;
        return { error: { status: 400, name: 'ValidationError', message: `unknown export section "${section}"; use one of ${SECTIONS.join(', ')}` } };
      }
      const outcome = await exporterOf(strapi).start(section, 'manual');
      if (outcome.status === 'skipped') {
        ctx.status = 409;
        return { error: { status: 409, name: 'ConflictError', message: outcome.reason } };
      }
      outcome.done.catch((e) => strapi.log.error(`[attune] run ${outcome.run.id} failed: ${String(e)}`));
      ctx.status = 202;
      return outcome.run;
    }),
});

const marketing = ({ strapi }: { strapi: Core.Strapi }) => {
  const engine = async () => createEngineClient(await settingsOf(strapi).get());
  const proxy = (method: string, path: (ctx: Ctx) => string, withBody = false) => (ctx: Ctx) =>
    answer(ctx, async () => (await engine()).call(method, path(ctx), withBody ? ctx.request.body : undefined));
  return {
    audiences: proxy('GET', () => '/v1/audiences'),
    previewAudience: proxy('POST', () => '/v1/audiences/preview', true),
    /** Creates the audience, and its segment group first when the engine has none by that id. */
    createAudience: (ctx: Ctx) =>
      answer(ctx, async () => {
        const e = await engine();
        const body = (ctx.request.body ?? {}) as { groupId?: string };
        if (body.groupId) {
          try {
            await e.call('GET', `/v1/segment-groups/${encodeURIComponent(body.groupId)}`);
          } catch (err) {
            if (!(err instanceof EngineError && err.status === 404)) throw err;
            await e.call('POST', '/v1/segment-groups', { id: body.groupId, name: body.groupId });
          }
        }
        ctx.status = 201;
        return e.call('POST', '/v1/audiences', body);
      }),
    experiences: proxy('GET', () => '/v1/experiences'),
    experiments: proxy('GET', () => '/v1/experiments'),
    /** The engine's results, each variant's rate with its 95% Wilson interval added for the charts. */
    results: (ctx: Ctx) =>
      answer(ctx, async () => {
        const r = await (await engine()).call<{ variants: { conversions: number; exposures: number }[] }>('GET', `/v1/experiments/${encodeURIComponent(ctx.params.id ?? '')}/results`);
        return { ...r, variants: r.variants.map((v) => ({ ...v, rateCi95: wilsonInterval(v.conversions, v.exposures) })) };
      }),
    /** Audiences and experiment arms a slot variant can be bound to, fetched live from the engine. */
    bindings: (ctx: Ctx) =>
      answer(ctx, async () => {
        const e = await engine();
        const [a, x, xp] = await Promise.all([
          e.call<{ audiences: { id: string; name?: string }[] }>('GET', '/v1/audiences'),
          e.call<{ experiments: { id: string; name?: string; experienceId: string }[] }>('GET', '/v1/experiments'),
          e.call<{ experiences: { id: string; variants: { key: string; name?: string }[] }[] }>('GET', '/v1/experiences'),
        ]);
        const arms = new Map(xp.experiences.map((ex) => [ex.id, ex.variants]));
        return {
          audiences: a.audiences.map((x) => ({ kind: 'audience', id: x.id, name: x.name ?? x.id })),
          experiments: x.experiments.flatMap((exp) =>
            (arms.get(exp.experienceId) ?? []).map((v) => ({ kind: 'experiment', id: exp.id, variant: v.key, name: `${exp.name ?? exp.id}: ${v.name ?? v.key}` })),
          ),
        };
      }),
    preview: (ctx: Ctx) =>
      answer(ctx, () =>
        previewDocument(strapi, {
          uid: ctx.params.uid ?? '',
          documentId: ctx.params.documentId ?? '',
          locale: ctx.query.locale,
          audiences: (ctx.query.audience ?? '').split(',').filter(Boolean),
          assignments: ctx.query.experiment && ctx.query.variant ? { [ctx.query.experiment]: { variant: ctx.query.variant } } : {},
        }),
      ),
  };
};

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, VALIDATION: 400, NOT_FOUND: 404 };

const erasure = ({ strapi }: { strapi: Core.Strapi }) => ({
  /** Attune's erasure notice: 200 once this app's copy is deleted (the confirmation follows); 401 for a bad signature. */
  receive: async (ctx: Ctx & { state: { attuneRawBody?: string }; get(name: string): string }) => {
    try {
      ctx.body = await (strapi.plugin('attune').service('erasure') as ErasureService).handle(
        { id: ctx.get('webhook-id') || undefined, timestamp: ctx.get('webhook-timestamp') || undefined, signature: ctx.get('webhook-signature') || undefined },
        ctx.state.attuneRawBody ?? '',
      );
    } catch (e) {
      if (!isAttuneError(e) || !STATUS[e.code]) throw e;
      ctx.status = STATUS[e.code] as number;
      ctx.body = { error: { status: ctx.status, name: e.code, message: e.message } };
    }
  },
});

export default { settings, exports: exportsController, marketing, erasure };
