import { manifestFromConfig } from '@attune/core';
import { describe, expect, it } from 'vitest';
import { localDecisionSource } from '../src/local.ts';
import { createSlotResolver } from '../src/slots.ts';

describe('local evaluation from a manifest', () => {
  it('decides with the core decide() from a manifest and a snapshot, without a server', async () => {
    const now = Date.parse('2026-06-15T12:00:00.000Z');
    const manifest = manifestFromConfig(
      {
        experiences: [
          {
            id: 'fr-promo',
            name: 'fr',
            targeting: { condition: { context: { field: 'geo.country', op: 'eq', value: 'FR' } } },
            variants: [{ key: 'default', slots: { promo: { content: { text: 'Livraison gratuite' } } } }],
          },
          {
            id: 'gold-hero',
            name: 'gold',
            targeting: { condition: { have: { trait: 'traits.tier', op: 'eq', value: 'gold' } } },
            variants: [{ key: 'default', slots: { hero: { content: { title: 'Hello gold' } } } }],
          },
        ],
      },
      now,
    );
    const resolver = createSlotResolver({
      source: localDecisionSource({
        manifest: () => manifest,
        snapshot: () => ({ profileId: null, traits: { tier: 'gold' }, computed: {}, audiences: [], assignments: {}, offers: {} }),
        now: () => now,
      }),
    });
    const out = await resolver.resolve({ anonymousId: 'v', context: { geo: { country: 'FR' } }, slots: ['promo', 'hero', 'footer'] });
    expect(out.promo?.decision).toMatchObject({ experience: 'fr-promo', content: { type: 'content', content: { text: 'Livraison gratuite' } } });
    expect(out.hero?.decision).toMatchObject({ experience: 'gold-hero' });
    expect(out.footer).toMatchObject({ source: 'live', decision: { reason: 'unknown_slot', content: null } });
  });
});
