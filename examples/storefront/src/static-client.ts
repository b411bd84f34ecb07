/**
 * Client-side personalization for a static page (no server rendering): slots are filled in the
 * browser from /v1/decide with the write key, hidden until then or until the anti-flicker
 * timeout, which falls back to the page's own content.
 */
import { createSlotResolver, type DecisionCache, httpDecisionSource, type SlotDecision } from '@attune/render';
import { personalizeDocument, type TrackerLike } from '@attune/render/dom';

/** Last good decisions survive page loads in localStorage. */
const storageCache: DecisionCache = {
  get: (k) => {
    try {
      return JSON.parse(localStorage.getItem(`attune.decision.${k}`) ?? 'null') ?? undefined;
    } catch {
      return undefined;
    }
  },
  set: (k, d: SlotDecision) => {
    try {
      localStorage.setItem(`attune.decision.${k}`, JSON.stringify(d));
    } catch {
      // storage full: the default content is the fallback
    }
  },
};

const config = document.getElementById('attune-static') as HTMLElement;
const resolver = createSlotResolver({
  source: httpDecisionSource({ apiHost: config.dataset.apiHost as string, key: config.dataset.writeKey as string }),
  budgetMs: Number(config.dataset.budgetMs ?? 150),
  cache: storageCache,
});

function run(tracker: TrackerLike) {
  const country = new URLSearchParams(location.search).get('country');
  void personalizeDocument({ resolver, tracker, context: country ? { geo: { country: country.toUpperCase() } } : {} }).then((slots) => {
    document.body.dataset.attuneDone = Object.values(slots).map((s) => s.source).join(',') || 'none';
  });
}

const current = (window as unknown as { attune?: unknown }).attune;
if (current && !Array.isArray(current)) run(current as TrackerLike);
else addEventListener('attune:ready', (e) => run((e as CustomEvent<TrackerLike>).detail), { once: true });
