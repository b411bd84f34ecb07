import cliProgress from 'cli-progress';
import { DEMO_DEFAULTS } from './generator.ts';
import { type SeedDemoOptions, type SeedDemoResult, seedDemo } from './seed.ts';

/** seedDemo() with a progress bar on stderr, for the CLI. cli-progress draws it on terminals only. */
export async function seedWithProgress(options: Omit<SeedDemoOptions, 'onProgress'>): Promise<SeedDemoResult> {
  const bar = new cliProgress.SingleBar(
    {
      format: '  {bar} {percentage}% | {value}/{total} visitors | {events} events | {rate} events/s | {duration_formatted}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.visitors ?? DEMO_DEFAULTS.visitors, 0, { events: 0, rate: 0 });
  try {
    return await seedDemo({
      ...options,
      onProgress: (p) => bar.update(p.visitorsDone, { events: p.events, rate: p.elapsedMs > 0 ? Math.round((p.events / p.elapsedMs) * 1000) : 0 }),
    });
  } finally {
    bar.stop();
  }
}

export function printSeedSummary(r: SeedDemoResult): void {
  process.stderr.write(
    `Seeded ${r.events} events (${r.accepted} new, ${r.duplicates} already there) from ${r.visitors} visitors with ${r.orders} orders ` +
      `in ${(r.elapsedMs / 1000).toFixed(1)} s: ${r.eventsPerSecond} events/s, ${r.batches} batches.\n`,
  );
}
