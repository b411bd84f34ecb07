import type { Store } from '@attune/core';
import { afterEach, beforeEach, describe } from 'vitest';
import { describeAudiences } from './audience-suite.ts';
import { describeCatalogAndErasure } from './catalog-suite.ts';
import { describeDecisionCache } from './decision-cache-suite.ts';
import { describeConfigDocuments } from './docs-suite.ts';
import { describeEngine } from './engine-suite.ts';
import { describeMemberships } from './membership-suite.ts';
import { describeOutbox } from './outbox-suite.ts';
import { describePartialEvaluation } from './partial-eval-suite.ts';
import { describePrivacy } from './privacy-suite.ts';
import { describeRecommendations } from './recommend-suite.ts';
import { describeRecompute } from './recompute-suite.ts';
import { describeStorePort, type StoreContext } from './store-port-suite.ts';

export interface TestStore {
  store: Store;
  /** Closes the store and removes what it created (file, schema, database). */
  cleanup: () => Promise<void>;
}

export type MakeStore = () => Promise<TestStore>;

/**
 * The conformance suite every Store passes: each method of the port called directly, then
 * the engine end to end on the store. Each test gets a fresh store from `makeStore`, which
 * the suite migrates before use and cleans up after.
 */
export function runStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`${name} store conformance`, () => {
    let current: TestStore | null = null;
    const ctx: StoreContext = {
      get store() {
        if (!current) throw new Error('no store: used outside a test');
        return current.store;
      },
    };
    beforeEach(async () => {
      current = await makeStore();
      await current.store.migrate();
    });
    afterEach(async () => {
      const done = current;
      current = null;
      await done?.cleanup();
    });
    describeStorePort(ctx);
    describeConfigDocuments(ctx);
    describeMemberships(ctx);
    describeOutbox(ctx);
    describeEngine(ctx);
    describeAudiences(ctx);
    describeCatalogAndErasure(ctx);
    describePrivacy(ctx);
    describeDecisionCache(ctx);
    describePartialEvaluation(ctx);
    describeRecompute(ctx);
    describeRecommendations(ctx);
  });
}
