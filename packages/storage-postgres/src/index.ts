export { MIGRATIONS } from './migrations.ts';
export { createPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
