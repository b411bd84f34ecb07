// Attune's server on the embedded store, as `attune start` runs it, in its own process.
import { startServer } from '@attune/server';

const server = await startServer({
  port: Number(process.env.PORT ?? 0),
  host: '127.0.0.1',
  dataDir: process.env.ATTUNE_DATA_DIR as string,
  secretKey: 'sk_bench_secret_key_000000000000000000',
  writeKey: 'wk_bench_write_key_0000000000000000000',
  // The load generator is one client standing in for thousands of browsers, each of which has
  // its own bucket in production: the limiter still runs on every request, but never answers 429.
  rateLimit: { windowMs: 60_000, max: 1_000_000_000 },
});
process.stdout.write(`READY ${server.port}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
