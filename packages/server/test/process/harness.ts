// The process harness lives in @attune/test-utils/process, shared with plugin tests.


/** A fresh, empty PostgreSQL database for one test (on ATTUNE_TEST_DATABASE_URL's server). */
export { createTestPostgresDatabase as createDatabase } from '@attune/test-utils';
export * from '@attune/test-utils/process';
