// The Attune server for the Strapi export benchmark, in its own process so that the Strapi
// process's memory is measured alone. Prints `READY <port>`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, startServer } from '@attune/server';

const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  dataDir: mkdtempSync(join(tmpdir(), 'attune-bench-engine-')),
  secretKey: process.env.ATTUNE_SECRET_KEY as string,
  writeKey: process.env.ATTUNE_WRITE_KEY as string,
  logger: createLogger({ level: 'warn' }),
});
console.log(`READY ${server.port}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
