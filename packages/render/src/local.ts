import { type DecisionManifest, type DecisionSnapshot, decide } from '@attune/core';
import type { DecisionSource, SlotDecision } from './slots.ts';

/**
 * Local evaluation: decisions from a manifest and a visitor snapshot with the same core decide()
 * the server runs (for the edge, a CMS preview, or a browser that fetched both once).
 */
export function localDecisionSource(options: { manifest: () => DecisionManifest; snapshot: (ids: { anonymousId?: string; userId?: string }) => Promise<DecisionSnapshot> | DecisionSnapshot; now?: () => number }): DecisionSource {
  return {
    async decide(request) {
      const ids = { ...(request.anonymousId ? { anonymousId: request.anonymousId } : {}), ...(request.userId ? { userId: request.userId } : {}) };
      const snapshot = await options.snapshot(ids);
      const result = await decide(options.manifest(), snapshot, { ...ids, context: request.context, slots: request.slots }, (options.now ?? Date.now)());
      return result.decisions as Record<string, SlotDecision>;
    },
  };
}
