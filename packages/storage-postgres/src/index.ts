export { createPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
export { MIGRATIONS } from './migrations.ts';
