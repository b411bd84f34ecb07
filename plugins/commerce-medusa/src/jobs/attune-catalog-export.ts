import type { MedusaContainer } from '@medusajs/framework/types';
import { createCatalogExport, scheduleDue } from '../exports.ts';
import { attuneRuntime } from '../runtime.ts';

let lastCheck = new Date();

/**
 * Medusa job schedules are static, so the job wakes every minute and runs the export when the
 * schedule from the plugin options (`catalog.schedule`) fired since its last check.
 */
export default async function attuneCatalogExport(container: MedusaContainer): Promise<void> {
  const { options } = attuneRuntime(container);
  const now = new Date();
  const since = lastCheck;
  lastCheck = now;
  if (!options.catalog.schedule || !scheduleDue(options.catalog.schedule, options.catalog.timezone, since, now)) return;
  const results = await createCatalogExport(container).runAll('incremental');
  container.resolve('logger').info(`attune catalog export: ${JSON.stringify(results)}`);
}

export const config = { name: 'attune-catalog-export', schedule: '* * * * *' };
