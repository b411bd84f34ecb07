import { describe, expect, it } from 'vitest';
import { createSlotResolver, type DecisionSource, exposureEvent, type SlotDecision, slotContent } from '../src/slots.ts';

const decision = (title: string, experiment?: string): SlotDecision => ({
  experience: 'e',
  variant: 'b',
  ...(experiment ? { experiment } : {}),
  content: { type: 'content', content: { title } },
  reason: experiment ? 'experiment' : 'targeted',
});

/** A decision source standing in for the engine: answers, slowly, or fails (a test double for the network). */
function source(behaviour: { delayMs?: number; fail?: boolean; title?: string }): DecisionSource & { calls: number } {
  const s = {
    calls: 0,
    async decide(request: { slots: string[] }) {
      s.calls++;
      await new Promise((r) => setTimeout(r, behaviour.delayMs ?? 0));
      if (behaviour.fail) throw new Error('engine down');
      return Object.fromEntries(request.slots.map((slot) => [slot, decision(behaviour.title ?? 'live', 'x1')]));
    },
  };
  return s;
}

describe('slot resolution', () => {
  it('uses live decisions within the budget and remembers them', async () => {
    const r = createSlotResolver({ source: source({ title: 'fresh' }), budgetMs: 100 });
    const out = await r.resolve({ anonymousId: 'a', context: {}, slots: ['hero'] });
    expect(out.hero).toMatchObject({ source: 'live' });
    expect(slotContent(out.hero?.decision ?? null)).toEqual({ title: 'fresh' });
  });

  it('falls back to the default when the engine is slow or fails, and to the last good decision once there is one', async () => {
    const slow = createSlotResolver({ source: source({ delayMs: 300 }), budgetMs: 50 });
    const started = Date.now();
    expect((await slow.resolve({ context: {}, slots: ['hero'] })).hero).toEqual({ source: 'default', decision: null });
    expect(Date.now() - started).toBeLessThan(250);

    const cache = new Map<string, SlotDecision>();
    const cacheApi = { get: (s: string) => cache.get(s), set: (s: string, d: SlotDecision) => void cache.set(s, d) };
    await createSlotResolver({ source: source({ title: 'good' }), cache: cacheApi }).resolve({ anonymousId: 'v1', context: {}, slots: ['hero'] });
    const down = createSlotResolver({ source: source({ fail: true }), cache: cacheApi });
    const out = await down.resolve({ anonymousId: 'v1', context: {}, slots: ['hero', 'banner'] });
    // Another visitor never gets this one's decision.
    expect((await down.resolve({ anonymousId: 'v2', context: {}, slots: ['hero'] })).hero).toEqual({ source: 'default', decision: null });
    expect(out.hero).toMatchObject({ source: 'last-good' });
    expect(slotContent(out.hero?.decision ?? null)).toEqual({ title: 'good' });
    expect(out.banner).toEqual({ source: 'default', decision: null });
  });

  it('makes an exposure event only for experiment variants', () => {
    expect(exposureEvent(decision('t', 'x9'))).toEqual({ event: 'Experiment Viewed', properties: { experiment_id: 'x9', variation_id: 'b', experience_id: 'e' } });
    expect(exposureEvent(decision('t'))).toBeNull();
    expect(exposureEvent(null)).toBeNull();
  });
});
