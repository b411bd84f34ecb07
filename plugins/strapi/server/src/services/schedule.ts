import type { Core } from '@strapi/strapi';
import { SECTIONS, type Section } from '../config.ts';
import type { Exporter } from './exporter.ts';
import type { SettingsService } from './settings.ts';

export const jobName = (section: Section) => `attune-export-${section}`;

/**
 * One Strapi cron job per export section. Every instance schedules every job; the lease in the
 * exporter makes only one of them run it.
 */
export function createSchedule(strapi: Core.Strapi) {
  const settings = () => strapi.plugin('attune').service('settings') as SettingsService;
  const exporter = () => strapi.plugin('attune').service('exporter') as Exporter;
  return {
    async reschedule() {
      const s = await settings().get();
      for (const section of SECTIONS) {
        strapi.cron.remove(jobName(section));
        const config = s.exports[section];
        if (!config.enabled) continue;
        if (section !== 'users' && config.contentTypes.length === 0) continue;
        strapi.cron.add({
          [jobName(section)]: {
            options: config.cron,
            task: async () => {
              const outcome = await exporter().run(section, 'cron');
              if (outcome.status === 'skipped') strapi.log.debug(`[attune] ${section} export skipped: ${outcome.reason}`);
            },
          },
        });
      }
    },
  };
}
