export { type MakeStore, runStoreConformance, type TestStore } from './conformance.ts';
export * from './fixtures.ts';
export {
  createTestPostgresDatabase,
  DEFAULT_TEST_DATABASE_URL,
  postgresTablesText,
  type TestPostgresDatabase,
  testDatabaseUrl,
  uniqueName,
} from './postgres.ts';
