import { randomUUID } from 'node:crypto';
import type { Core } from '@strapi/strapi';
import config from './config.ts';
import contentTypes from './content-types/index.ts';
import controllers from './controllers/index.ts';
import { ACTION_DEFINITIONS } from './permissions.ts';
import routes from './routes/index.ts';
import { createErasureService, type ErasureService, rawBodyMiddleware } from './services/erasure.ts';
import { createExporter, type Exporter } from './services/exporter.ts';
import { createLeaseService, type LeaseService } from './services/lease.ts';
import { registerDocumentOutbox, registerUserOutbox } from './services/outbox.ts';
import { createSchedule } from './services/schedule.ts';
import { createSettingsService, type SettingsService } from './services/settings.ts';

/** Identifies this process as a lease holder. */
const instance = randomUUID();

export default {
  config,
  contentTypes,
  controllers,
  routes,
  services: {
    settings: ({ strapi }: { strapi: Core.Strapi }) => createSettingsService(strapi),
    lease: ({ strapi }: { strapi: Core.Strapi }) => createLeaseService(strapi, instance),
    exporter: ({ strapi }: { strapi: Core.Strapi }) =>
      createExporter(strapi, {
        get settings() {
          return strapi.plugin('attune').service('settings') as SettingsService;
        },
        get lease() {
          return strapi.plugin('attune').service('lease') as LeaseService;
        },
      }),
    schedule: ({ strapi }: { strapi: Core.Strapi }) => createSchedule(strapi),
    erasure: ({ strapi }: { strapi: Core.Strapi }) =>
      createErasureService(strapi, {
        get settings() {
          return strapi.plugin('attune').service('settings') as SettingsService;
        },
      }),
  },

  register({ strapi }: { strapi: Core.Strapi }) {
    // "Personalized slot": the binding of one slot variant to an audience or an experiment arm.
    strapi.customFields.register({ name: 'personalized-slot', plugin: 'attune', type: 'json' });
    registerDocumentOutbox(strapi);
    // Before the app's body parser (config middlewares are added later, at bootstrap).
    strapi.server.use(rawBodyMiddleware(strapi) as never);
  },

  async bootstrap({ strapi }: { strapi: Core.Strapi }) {
    await strapi.service('admin::permission').actionProvider.registerMany(ACTION_DEFINITIONS);
    const settings = strapi.plugin('attune').service('settings') as SettingsService;
    // Rules in code are the developer's: a mistake stops start-up with what and where.
    const issues = settings.codeRuleIssues();
    if (issues.length > 0) throw new Error(`Attune field rules are invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    // Rules from the Content-Type Builder are an editor's: reported, and exports refuse to run until fixed.
    for (const i of settings.builderRuleIssues()) strapi.log.error(`[attune] ${i.path}: ${i.message}`);
    const exporter = strapi.plugin('attune').service('exporter') as Exporter;
    registerUserOutbox(strapi, async (users) => {
      // Erase at once; the outbox row makes the next users export retry if the engine is down.
      for (const u of users) {
        await exporter.eraseUser(u.documentId).catch((e) => strapi.log.warn(`[attune] erasing user ${u.documentId} failed, the next users export retries: ${String(e)}`));
      }
    });
    await strapi.plugin('attune').service('schedule').reschedule();
    // Registering with Attune must not hold up (or fail) the start, and Attune may start later: retried in the background.
    const erasure = strapi.plugin('attune').service('erasure') as ErasureService;
    void (async () => {
      for (let attempt = 1; attempt <= 8; attempt++) {
        try {
          const r = await erasure.register();
          if (r) strapi.log.info(`[attune] erasure activation: ${r.status}`);
          return;
        } catch (e) {
          strapi.log.warn(`[attune] registering the erasure activation failed (attempt ${attempt} of 8): ${String(e)}`);
          await new Promise((resolve) => setTimeout(resolve, Math.min(60_000, 1000 * 2 ** (attempt - 1))).unref());
        }
      }
      strapi.log.error('[attune] the erasure activation is not registered: check engineUrl and secretKey, then restart');
    })();
    void erasure.confirmOwed().catch((e) => strapi.log.error(`[attune] owed erasure confirmations: ${String(e)}`));
  },

  destroy() {},
};
