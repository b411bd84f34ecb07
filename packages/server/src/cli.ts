import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { type ApiKeyKind, type ApiKeyRole, AttuneError, type Engine, isAttuneError, type Store } from '@attune/core';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatConfig, readConfigFile } from './config-file.ts';
import { createDemoAudiences, DEMO_AUDIENCES } from './demo/audiences.ts';
import { DEMO_DEFAULTS, demoShowcase } from './demo/index.ts';
import { printSeedSummary, seedWithProgress } from './demo/progress.ts';
import { createApiKey, listKeys, publicKeyView, revokeKey } from './keys.ts';
import { createLogger, type ServerLogger } from './logger.ts';
import { DEFAULT_PORT, openStore, type StartedServer, startServer } from './start.ts';

/**
 * The `attune` command. Human-readable output goes to stderr (banner, progress, hints), JSON
 * logs to stdout, and a command's result (a key list, a new key) to stdout.
 */

const env = process.env;

interface StoreFlags {
  dataDir?: string;
}

/** Where the store is: DATABASE_URL (PostgreSQL) wins, else the embedded store in the data dir. */
function storeLocation(flags: StoreFlags) {
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  const dataDir = resolve(flags.dataDir ?? nonEmpty(env.ATTUNE_DATA_DIR) ?? '.attune');
  return { databaseUrl, dataDir };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** A comma-separated list of host names (`api.example.com`, `*.example.com`) or IP addresses; absent when unset. */
function hostList(name: string, value: string | undefined): string[] | undefined {
  const raw = nonEmpty(value);
  if (raw === undefined) return undefined;
  const hosts = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  for (const h of hosts) {
    if (isIP(h) === 0 && !/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(h)) {
      throw new InvalidArgumentError(`${name}: "${h}" is not a host name, *.domain or IP address (list them separated by commas).`);
    }
  }
  return hosts;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

const say = (line = '') => process.stderr.write(`${line}\n`);

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'PostgreSQL';
  }
}

/** The server's own address for requests from this process (0.0.0.0 is not a destination). */
function localUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

// ---- start ---------------------------------------------------------------------------------

interface StartFlags extends StoreFlags {
  port?: number;
  host?: string;
  demo?: boolean;
  demoVisitors: number;
  demoDays: number;
}

async function start(flags: StartFlags): Promise<void> {
  const logger = createLogger({ level: nonEmpty(env.LOG_LEVEL) ?? 'info' });
  installCrashHandlers(logger);
  const { databaseUrl, dataDir } = storeLocation(flags);
  const port = flags.port ?? (nonEmpty(env.PORT) ? integer('PORT', 0, 65535)(env.PORT as string) : DEFAULT_PORT);
  const host = flags.host ?? nonEmpty(env.HOST);
  const externalIds = (nonEmpty(env.ATTUNE_EXTERNAL_IDS) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const secretKey = nonEmpty(env.ATTUNE_SECRET_KEY);
  const writeKey = nonEmpty(env.ATTUNE_WRITE_KEY);
  const resendRaw = nonEmpty(env.ATTUNE_ERASURE_RESEND_MS);
  const erasureResendMs = resendRaw ? integer('ATTUNE_ERASURE_RESEND_MS', 1000, 30 * 86_400_000)(resendRaw) : undefined;
  // Internal addresses (loopback, private networks, cloud metadata) are reachable only by listed hosts.
  const webhookHosts = hostList('ATTUNE_WEBHOOK_HOSTS', env.ATTUNE_WEBHOOK_HOSTS);
  const connectorHosts = hostList('ATTUNE_CONNECTOR_HOSTS', env.ATTUNE_CONNECTOR_HOSTS);

  // Signals are handled from the first moment: one during start-up stops the server once it is up.
  let server: StartedServer | null = null;
  let stopRequested: NodeJS.Signals | null = null;
  let stopping = false;
  const abortSeeding = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for in-flight requests');
      process.exit(1);
    }
    abortSeeding.abort();
    if (!server) {
      stopRequested = signal;
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    say(`\n${signal} received: finishing in-flight requests, then stopping.`);
    setTimeout(() => {
      logger.error({ signal }, 'shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000).unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: errorInfo(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  try {
    server = await startServer({
      port,
      ...(host ? { host } : {}),
      ...(databaseUrl ? { databaseUrl } : { dataDir }),
      ...(secretKey ? { secretKey } : {}),
      ...(writeKey ? { writeKey } : {}),
      ...(externalIds.length > 0 ? { externalIds } : {}),
      ...(erasureResendMs !== undefined ? { privacy: { erasureResendMs } } : {}),
      ...(webhookHosts ? { webhookHosts: { allowHosts: webhookHosts } } : {}),
      ...(connectorHosts ? { connectorHosts: { allowHosts: connectorHosts } } : {}),
      logger,
    });
  } catch (error) {
    logger.error({ err: errorInfo(error), port, ...(databaseUrl ? { database: redactUrl(databaseUrl) } : { dataDir }) }, 'attune failed to start');
    throw error;
  }
  if (stopRequested) {
    stop(stopRequested);
    return;
  }

  const generated = server.generatedKeys;
  const keyForExamples = (kind: ApiKeyKind): string =>
    (kind === 'write' ? generated.write : generated.secret) ??
    ((kind === 'write' ? writeKey : secretKey) ? `$ATTUNE_${kind.toUpperCase()}_KEY` : `<your ${kind} key>`);
  logger.info(
    {
      url: server.url,
      port: server.port,
      store: server.store.kind,
      ...(databaseUrl ? { database: redactUrl(databaseUrl) } : { dataDir }),
      generatedKeys: Object.entries(generated)
        .filter(([, k]) => k !== undefined)
        .map(([kind, k]) => ({ kind, prefix: (k as string).slice(0, 8) })),
    },
    'attune started',
  );
  printBanner({
    url: server.url,
    store: databaseUrl ? `PostgreSQL ${redactUrl(databaseUrl)}` : `embedded, ${dataDir}`,
    generated,
    writeKey: keyForExamples('write'),
    secretKey: keyForExamples('secret'),
  });

  if (flags.demo) {
    await demo(server, {
      logger,
      visitors: flags.demoVisitors,
      days: flags.demoDays,
      writeKey: generated.write ?? writeKey,
      secretKey: keyForExamples('secret'),
      signal: abortSeeding.signal,
    });
  }
}

function printBanner(o: { url: string; store: string; generated: { secret?: string; write?: string }; writeKey: string; secretKey: string }) {
  const shellQuote = (s: string) => (s.startsWith('$') ? `"${s}"` : `'${s}'`);
  say();
  say(`Attune is running at ${o.url}  (store: ${o.store})`);
  if (o.generated.write || o.generated.secret) {
    say();
    say('New API keys. They are shown this once; keep them somewhere safe:');
    if (o.generated.write) say(`  write key   ${o.generated.write}   sends events; safe to ship in browsers and apps`);
    if (o.generated.secret) say(`  secret key  ${o.generated.secret}   opens the admin API; keep it secret`);
  }
  say();
  say('Send an event:');
  say(
    `  curl -u ${shellQuote(`${o.writeKey}:`)} -H 'content-type: application/json' ${o.url}/v1/track \\\n` +
      `    -d '{"event":"Product Viewed","anonymousId":"visitor-1","properties":{"product_id":"p-1001","category":"Shoes"}}'`,
  );
  say('Look the profile up:');
  say(`  curl -H ${shellQuote(`Authorization: Bearer ${o.secretKey}`)} '${o.url}/v1/profiles?anonymousId=visitor-1'`);
  say(`Health: ${o.url}/health   API reference: ${o.url}/v1/openapi.json`);
  say('Stop with Ctrl-C: in-flight requests finish first.');
  say();
}

interface DemoRun {
  logger: ServerLogger;
  visitors: number;
  days: number;
  writeKey: string | undefined;
  secretKey: string;
  signal: AbortSignal;
}

async function demo(server: { url: string; port: number; store: Store; engine: Engine }, o: DemoRun): Promise<void> {
  await createDemoAudiences(server.engine);
  const profiles = await server.store.countProfiles();
  if (profiles > 0) {
    say(`The store already holds ${profiles} profiles: not seeding the demo data again.`);
    o.logger.info({ profiles }, 'demo seeding skipped: store not empty');
  } else {
    // Keys from an earlier start cannot be read back: seed with a fresh write key then.
    const writeKey = o.writeKey ?? (await createApiKey(server.store, { kind: 'write', name: 'demo seeding' })).key;
    say(`Seeding the demo shop: ${o.visitors} visitors over ${o.days} days, through POST /v1/batch …`);
    try {
      const result = await seedWithProgress({ url: localUrl(server.port), writeKey, visitors: o.visitors, days: o.days, signal: o.signal });
      printSeedSummary(result);
      o.logger.info({ ...result, elapsedMs: Math.round(result.elapsedMs) }, 'demo data seeded');
    } catch (error) {
      if (o.signal.aborted) return;
      // The server itself is fine: keep it running and say what went wrong.
      o.logger.error({ err: errorInfo(error) }, 'demo seeding failed');
      say(`Demo seeding failed: ${error instanceof Error ? error.message : String(error)}. The server keeps running.`);
      return;
    }
  }
  const showcase = demoShowcase(DEMO_DEFAULTS.seed);
  const auth = o.secretKey.startsWith('$') ? `"Authorization: Bearer ${o.secretKey}"` : `'Authorization: Bearer ${o.secretKey}'`;
  say();
  say(`Try it: ${showcase.name} signed up on her iPhone, then signed in on a Mac and in the iOS app.`);
  say('Her three devices are one profile, with her orders, sessions and top categories:');
  say(`  curl -H ${auth} '${server.url}/v1/profiles?email=${encodeURIComponent(showcase.email)}'`);
  say(`  curl -H ${auth} '${server.url}/v1/profiles?userId=${showcase.userId}'`);
  await server.engine.audiences.recompute();
  say('Audiences, kept up to date as events arrive (GET /v1/audiences/<id>/members):');
  for (const a of DEMO_AUDIENCES) say(`  ${a.id.padEnd(20)} ${String(await server.store.memberships.count(a.id)).padStart(5)}  ${a.name}`);
  say(`  curl -H ${auth} '${server.url}/v1/audiences/gold/members'`);
  say(`API reference (OpenAPI): ${server.url}/v1/openapi.json`);
  if (o.secretKey.startsWith('<')) say('No secret key at hand? Make one: pnpm attune keys create --kind secret --name me');
  say();
}

function installCrashHandlers(logger: ServerLogger): void {
  const crash = (kind: string) => (error: unknown) => {
    logger.error({ err: errorInfo(error) }, kind);
    say(`attune: ${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    // pino writes synchronously to stdout (a file descriptor), so the log line is out.
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled promise rejection'));
}

function errorInfo(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { type: error.name, message: error.message, stack: error.stack, ...(isAttuneError(error) ? { code: error.code } : {}) };
  return { message: String(error) };
}

// ---- seed-demo -----------------------------------------------------------------------------

interface SeedFlags {
  url?: string;
  writeKey?: string;
  visitors: number;
  days: number;
  seed: number;
  concurrency: number;
}

async function seedCommand(flags: SeedFlags): Promise<void> {
  const url = flags.url ?? nonEmpty(env.ATTUNE_URL) ?? `http://localhost:${nonEmpty(env.PORT) ?? DEFAULT_PORT}`;
  const writeKey = flags.writeKey ?? nonEmpty(env.ATTUNE_WRITE_KEY);
  if (!writeKey) throw new UsageError('a write key is required: --write-key wk_… or ATTUNE_WRITE_KEY (see `attune keys create --kind write`).');
  say(`Seeding ${url}: ${flags.visitors} visitors over ${flags.days} days (seed ${flags.seed}) …`);
  const result = await seedWithProgress({ url, writeKey, visitors: flags.visitors, days: flags.days, seed: flags.seed, concurrency: flags.concurrency });
  printSeedSummary(result);
  const showcase = demoShowcase(flags.seed);
  say(`Look up a demo customer with three devices: GET ${url}/v1/profiles?email=${encodeURIComponent(showcase.email)}`);
  process.stdout.write(`${JSON.stringify({ ...result, elapsedMs: Math.round(result.elapsedMs), showcase })}\n`);
}

// ---- config as code ------------------------------------------------------------------------

interface ConfigFlags {
  url?: string;
  secretKey?: string;
  prune?: boolean;
  format?: 'json' | 'yaml';
  out?: string;
}

function apiTarget(flags: ConfigFlags): { url: string; secretKey: string } {
  const url = flags.url ?? nonEmpty(env.ATTUNE_URL) ?? `http://localhost:${nonEmpty(env.PORT) ?? DEFAULT_PORT}`;
  const secretKey = flags.secretKey ?? nonEmpty(env.ATTUNE_SECRET_KEY);
  if (!secretKey) throw new UsageError('a secret key is required: --secret-key sk_… or ATTUNE_SECRET_KEY.');
  return { url: url.replace(/\/+$/, ''), secretKey };
}

async function configApi(flags: ConfigFlags, method: 'GET' | 'PUT', query: string, body?: unknown): Promise<Record<string, unknown>> {
  const { url, secretKey } = apiTarget(flags);
  let res: Response;
  try {
    res = await fetch(`${url}/v1/config${query}`, {
      method,
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new UsageError(`cannot reach ${url}: ${(error as Error).message}`);
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const err = answer.error as { code?: string; message?: string; issues?: Array<{ path: string; message: string }> } | undefined;
    for (const issue of err?.issues ?? []) say(`  ${issue.path}: ${issue.message}`);
    throw new AttuneError(
      err?.code === 'VALIDATION' ? 'VALIDATION' : 'UNAVAILABLE',
      `the server refused the configuration (${res.status}): ${err?.message ?? res.statusText}`,
    );
  }
  return answer;
}

async function configApply(file: string, flags: ConfigFlags): Promise<void> {
  const config = await readConfigFile(file);
  const result = await configApi(flags, 'PUT', flags.prune ? '?prune=true' : '', config);
  say(`Applied ${file}: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged${flags.prune ? `, ${result.deleted} deleted` : ''}.`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function configExport(flags: ConfigFlags): Promise<void> {
  const config = await configApi(flags, 'GET', '');
  const text = formatConfig(config, flags.format ?? (flags.out && /\.ya?ml$/i.test(flags.out) ? 'yaml' : 'json'));
  if (flags.out) {
    await writeFile(flags.out, text);
    say(`Wrote ${flags.out}.`);
  } else process.stdout.write(text);
}

// ---- keys ----------------------------------------------------------------------------------

/** The store `attune start` would open with the same environment and flags. */
function storeFor(flags: StoreFlags): Promise<Store> {
  const { databaseUrl, dataDir } = storeLocation(flags);
  return openStore(databaseUrl ? { databaseUrl } : { dataDir });
}

async function withStore<T>(flags: StoreFlags, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await storeFor(flags);
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

interface KeysFlags extends StoreFlags {
  json?: boolean;
}

async function keysList(flags: KeysFlags): Promise<void> {
  const keys = (await withStore(flags, listKeys)).map(publicKeyView);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(keys)}\n`);
    return;
  }
  if (keys.length === 0) {
    say('No API keys yet. `attune start` makes a write and a secret key on first start.');
    return;
  }
  const rows = [['ID', 'KIND', 'PREFIX', 'NAME', 'CREATED', 'STATUS']];
  for (const k of keys) rows.push([k.id, k.kind, `${k.prefix}…`, k.name, k.createdAt, k.revokedAt ? `revoked ${k.revokedAt}` : 'active']);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) process.stdout.write(`${r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
}

async function keysCreate(flags: KeysFlags & { kind: ApiKeyKind; name: string; role?: ApiKeyRole }): Promise<void> {
  const scope = flags.role ? { scope: { role: flags.role } } : {};
  const { record, key } = await withStore(flags, (store) => createApiKey(store, { kind: flags.kind, name: flags.name, ...scope }));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...publicKeyView(record), key })}\n`);
    return;
  }
  say(`Created ${record.kind} key "${record.name}" (id ${record.id}). It is shown this once:`);
  process.stdout.write(`${key}\n`);
}

async function keysRevoke(id: string, flags: KeysFlags): Promise<void> {
  const revoked = await withStore(flags, (store) => revokeKey(store, id));
  if (!revoked) throw new UsageError(`no active key with id ${id} (see \`attune keys list\`).`);
  if (flags.json) process.stdout.write(`${JSON.stringify({ id, revoked: true })}\n`);
  else say(`Revoked key ${id}. Servers stop accepting it within a second.`);
}

// ---- program -------------------------------------------------------------------------------

class UsageError extends Error {}

function program(): Command {
  // src/cli.ts and dist/cli.js both sit one level below package.json.
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
  const cli = new Command('attune')
    .description('Attune: open-source personalization engine and customer data platform')
    .version(version)
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const dataDir = () =>
    new Option('--data-dir <dir>', 'embedded store directory (env ATTUNE_DATA_DIR, default ./.attune); DATABASE_URL selects PostgreSQL instead');

  cli
    .command('start')
    .description('start the API server (env: PORT, ATTUNE_DATA_DIR, DATABASE_URL, ATTUNE_SECRET_KEY, ATTUNE_WRITE_KEY, ATTUNE_EXTERNAL_IDS, ATTUNE_ERASURE_RESEND_MS, ATTUNE_WEBHOOK_HOSTS, ATTUNE_CONNECTOR_HOSTS, LOG_LEVEL)')
    .option('-p, --port <port>', 'port to listen on (env PORT, default 4000)', integer('--port', 0, 65535))
    .option('--host <host>', 'address to bind (env HOST, default all interfaces)')
    .addOption(dataDir())
    .option('--demo', 'seed the demo shop through the API when the store is empty, then show what to try')
    .option('--demo-visitors <n>', 'visitors in the demo data set', integer('--demo-visitors', 1, 1_000_000), DEMO_DEFAULTS.visitors)
    .option('--demo-days <n>', 'days of demo history', integer('--demo-days', 1, 3650), DEMO_DEFAULTS.days)
    .action((flags: StartFlags) => start(flags));

  cli
    .command('seed-demo')
    .description('send the demo data set to a running server through POST /v1/batch')
    .option('--url <url>', 'server URL (env ATTUNE_URL, default http://localhost:$PORT)')
    .option('--write-key <key>', 'write key (env ATTUNE_WRITE_KEY)')
    .option('--visitors <n>', 'visitors, each with 1–3 devices', integer('--visitors', 1, 1_000_000), DEMO_DEFAULTS.visitors)
    .option('--days <n>', 'days of history ending now', integer('--days', 1, 3650), DEMO_DEFAULTS.days)
    .option('--seed <n>', 'PRNG seed: the same seed sends the same data', integer('--seed', 0, 2 ** 32 - 1), DEMO_DEFAULTS.seed)
    .option('--concurrency <n>', 'requests in flight', integer('--concurrency', 1, 64), 4)
    .action((flags: SeedFlags) => seedCommand(flags));

  const config = cli.command('config').description('decision configuration as code: experiences, offers, tables, models, connectors, experiments');
  const apiOptions = (c: Command) =>
    c.option('--url <url>', 'server URL (env ATTUNE_URL, default http://localhost:$PORT)').option('--secret-key <key>', 'secret key (env ATTUNE_SECRET_KEY)');
  apiOptions(
    config
      .command('apply')
      .description('validate FILE (JSON or YAML) and create or replace every document in it; nothing changes if any node is invalid')
      .argument('<file>', 'configuration file (.json, .yaml, .yml)')
      .option('--prune', 'also delete documents the file does not list'),
  ).action((file: string, flags: ConfigFlags) => configApply(file, flags));
  apiOptions(
    config
      .command('export')
      .description('print the configuration in force (apply it elsewhere to copy it)')
      .addOption(new Option('--format <format>', 'json or yaml').choices(['json', 'yaml']))
      .option('-o, --out <file>', 'write to a file instead of stdout'),
  ).action((flags: ConfigFlags) => configExport(flags));

  const keys = cli.command('keys').description('manage API keys in the store (same env and --data-dir as start)');
  keys
    .command('list')
    .description('list keys: ids, kinds, names, prefixes; never the keys')
    .addOption(dataDir())
    .option('--json', 'print JSON')
    .action((flags: KeysFlags) => keysList(flags));
  keys
    .command('create')
    .description('create a key and print it once')
    .addOption(new Option('--kind <kind>', 'write (send events), decide (public decisions) or secret (admin API)').choices(['write', 'decide', 'secret']).makeOptionMandatory())
    .addOption(new Option('--role <role>', 'secret keys: analyst (read), marketer (audiences, experiences, activations) or admin (default)').choices(['analyst', 'marketer', 'admin']))
    .requiredOption('--name <name>', 'what the key is for, e.g. "storefront"')
    .addOption(dataDir())
    .option('--json', 'print JSON')
    .action((flags: KeysFlags & { kind: ApiKeyKind; name: string; role?: ApiKeyRole }) => keysCreate(flags));
  keys
    .command('revoke')
    .description('revoke a key by id')
    .argument('<id>', 'key id from `attune keys list`')
    .addOption(dataDir())
    .option('--json', 'print JSON')
    .action((id: string, flags: KeysFlags) => keysRevoke(id, flags));
  return cli;
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  if (error instanceof UsageError) say(`attune: ${error.message}`);
  else if (isAttuneError(error)) say(`attune: ${error.code}: ${error.message}`);
  else say(`attune: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
