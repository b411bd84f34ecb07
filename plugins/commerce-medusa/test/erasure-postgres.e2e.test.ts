import { join } from 'node:path';
import { medusaIntegrationTestRunner } from '@medusajs/test-utils';
import { erasureTests, startErasureAttune } from './erasure-suite.ts';

// Erasure reaches Medusa, with Attune on PostgreSQL (a real `attune start` process).
const attune = await startErasureAttune('postgres');
medusaIntegrationTestRunner({ cwd: join(import.meta.dirname, 'app'), testSuite: erasureTests(attune) });
