/**
 * Framework-free slot resolution: ask for decisions under a latency budget, fall back to the last
 * good decision of the slot, else to the page's default content. Nothing here needs a DOM.
 */

import type { SlotDecision, SlotPayload } from '@attune/core';

/**
 * Segment's exposure event (core's EXPOSURE_EVENT). Spelled here rather than imported, so a
 * browser bundle of this module does not pull in the core's schemas.
 */
const EXPOSURE_EVENT = 'Experiment Viewed';

export type { SlotDecision, SlotPayload };

export interface DecideRequest {
  anonymousId?: string | undefined;
  userId?: string | undefined;
  context: Record<string, unknown>;
  slots: string[];
}

/** Where decisions come from: the Attune API, or local evaluation from a manifest. */
export interface DecisionSource {
  decide(request: DecideRequest): Promise<Record<string, SlotDecision>>;
}

export interface ResolvedSlot {
  /** live: from the engine now; last-good: the slot's previous decision; default: the page's own content. */
  source: 'live' | 'last-good' | 'default';
  decision: SlotDecision | null;
}

/**
 * Keeps the last good decision per visitor and slot (keys are `visitor\u0000slot`), in memory on a
 * server, or in localStorage in a browser.
 */
export interface DecisionCache {
  get(key: string): SlotDecision | undefined;
  set(key: string, decision: SlotDecision): void;
}

/** A bounded in-memory cache: the least recently written entries go first. */
export function memoryCache(maxEntries = 10_000): DecisionCache {
  const m = new Map<string, SlotDecision>();
  return {
    get: (k) => m.get(k),
    set: (k, d) => {
      m.delete(k);
      m.set(k, d);
      if (m.size > maxEntries) m.delete(m.keys().next().value as string);
    },
  };
}

function cacheKey(request: DecideRequest, slot: string): string {
  return `${request.userId ?? request.anonymousId ?? ''}\u0000${slot}`;
}

export interface SlotResolverOptions {
  source: DecisionSource;
  /** How long a page waits for decisions before showing defaults (default 150 ms). */
  budgetMs?: number;
  cache?: DecisionCache;
}

export interface SlotResolver {
  resolve(request: DecideRequest): Promise<Record<string, ResolvedSlot>>;
}

export function createSlotResolver(options: SlotResolverOptions): SlotResolver {
  const budget = options.budgetMs ?? 150;
  const cache = options.cache ?? memoryCache();
  return {
    async resolve(request) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), budget);
      });
      const live = options.source.decide(request).then(
        (d) => d,
        () => null,
      );
      const decisions = await Promise.race([live, timeout]);
      clearTimeout(timer);
      const out: Record<string, ResolvedSlot> = {};
      for (const slot of request.slots) {
        const d = decisions?.[slot];
        if (d) {
          if (d.content !== null) cache.set(cacheKey(request, slot), d);
          out[slot] = { source: 'live', decision: d };
          continue;
        }
        const good = decisions === null ? cache.get(cacheKey(request, slot)) : undefined;
        out[slot] = good ? { source: 'last-good', decision: good } : { source: 'default', decision: null };
      }
      return out;
    },
  };
}

/** Decisions from Attune's POST /v1/decide with the write key (browser) or secret key (server). */
export function httpDecisionSource(options: { apiHost: string; key: string; recordExposure?: boolean; fetch?: typeof fetch }): DecisionSource {
  const f = options.fetch ?? fetch;
  const auth = options.key.startsWith('sk_') ? `Bearer ${options.key}` : `Basic ${btoa(`${options.key}:`)}`;
  return {
    async decide(request) {
      const res = await f(`${options.apiHost}/v1/decide`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ ...request, recordExposure: options.recordExposure ?? false }),
      });
      if (!res.ok) throw new Error(`decide answered ${res.status}`);
      return ((await res.json()) as { decisions: Record<string, SlotDecision> }).decisions;
    },
  };
}

/** The exposure event for a rendered slot: Segment's "Experiment Viewed", when it is an experiment. */
export function exposureEvent(decision: SlotDecision | null): { event: string; properties: Record<string, string> } | null {
  if (!decision?.experiment || decision.variant === null) return null;
  return {
    event: EXPOSURE_EVENT,
    properties: { experiment_id: decision.experiment, variation_id: decision.variant, ...(decision.experience ? { experience_id: decision.experience } : {}) },
  };
}

/** The displayable content of a decision: the JSON content, the offer(s), the HTML, or null. */
export function slotContent(decision: SlotDecision | null): unknown {
  const c = decision?.content;
  if (!c) return null;
  if (c.type === 'content') return c.content;
  if (c.type === 'value') return c.value;
  if (c.type === 'offers') return c.offers;
  if (c.type === 'ref') return (c.offer as { content?: unknown } | undefined)?.content ?? c.ref;
  if (c.type === 'html') return { html: c.html, css: c.css, js: c.js };
  return c;
}
