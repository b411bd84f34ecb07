import pg from 'pg';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestPostgresDatabase {
  /** Connection string of the new database. */
  url: string;
  /** Drops the database, closing connections still open to it. */
  drop(): Promise<void>;
}

/** The server tests run against: `ATTUNE_TEST_DATABASE_URL`, else the local PostgreSQL. */
export function testDatabaseUrl(): string {
  return process.env.ATTUNE_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
}

/** A name no other test run uses: lower case, safe unquoted in SQL. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 10)}`;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh, empty database on the test server. */
export async function createTestPostgresDatabase(): Promise<TestPostgresDatabase> {
  const name = uniqueName('attune_test');
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * Every row of every table in a database's schema, as PostgreSQL prints it: for tests that
 * prove a value is stored nowhere in clear.
 */
export async function postgresTablesText(connectionString: string, schema = 'public'): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const tables = (await client.query<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = $1', [schema])).rows.map((r) => r.t);
    const out = new Map<string, string>();
    for (const t of tables) {
      const { rows } = await client.query<{ row: string }>(`SELECT x::text AS row FROM "${schema}"."${t.replace(/"/g, '""')}" x`);
      out.set(t, rows.map((r) => r.row).join('\n'));
    }
    return out;
  } finally {
    await client.end();
  }
}
