import { describe, expect, it } from 'vitest';
import specJson from '../../spec/decisions.json' with { type: 'json' };
import { newProfile } from '../profiles/types.ts';
import { type DecisionSnapshot, decide } from './decide.ts';
import { EXPOSURE_EVENT, NO_GOALS, OFFER_VIEWED_EVENT, recordDecisionEvent } from './exposures.ts';
import { manifestFromConfig } from './service.ts';

export interface DecisionCase {
  id: number;
  name: string;
  now: string;
  config: Record<string, unknown>;
  profile?: {
    traits: Record<string, unknown>;
    exposures?: Array<{ experiment: string; variant: string; at: string }>;
    offerViews?: Array<{ offer: string; at: string }>;
  };
  request: { anonymousId?: string; userId?: string; context: Record<string, unknown>; slots: string[] };
  expected: Record<string, Record<string, unknown>>;
}

const spec = specJson as unknown as { cases: DecisionCase[] };

/** The snapshot a server would hold for the case's profile, built through the real ingestion code. */
function snapshotOf(c: DecisionCase): DecisionSnapshot {
  if (!c.profile) return { profileId: null, traits: {}, computed: {}, audiences: [], assignments: {}, offers: {} };
  const p = newProfile('case-profile', Date.parse(c.now) - 86_400_000);
  p.traits = c.profile.traits;
  for (const x of c.profile.exposures ?? []) {
    recordDecisionEvent(p, { name: EXPOSURE_EVENT, timestamp: Date.parse(x.at), properties: { experiment_id: x.experiment, variation_id: x.variant } }, NO_GOALS, []);
  }
  for (const o of c.profile.offerViews ?? []) {
    recordDecisionEvent(p, { name: OFFER_VIEWED_EVENT, timestamp: Date.parse(o.at), properties: { offer_id: o.offer } }, NO_GOALS, []);
  }
  return { profileId: p.id, traits: p.traits, computed: { sessions: 2 }, audiences: [], assignments: p.experiments ?? {}, offers: p.offerImpressions ?? {} };
}

describe('spec/decisions.json', () => {
  it('holds at least 100 cases', () => {
    expect(spec.cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(spec.cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', async (_name, c) => {
    const now = Date.parse(c.now);
    const manifest = manifestFromConfig(c.config as never, now);
    const result = await decide(manifest, snapshotOf(c), c.request, now);
    for (const [slot, expected] of Object.entries(c.expected)) {
      expect({ slot, ...result.decisions[slot] }).toMatchObject({ slot, ...expected });
    }
  });
});
