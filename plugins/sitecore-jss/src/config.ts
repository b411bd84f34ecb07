/**
 * Attune configuration documents keyed by Sitecore variant ids: an experience that serves a page
 * or component variant to a targeted audience, and a component A/B test (experience plus experiment). They are
 * plain documents for `attune config apply` or the admin API; Attune validates them.
 */
import jssPersonalize from '@sitecore-jss/sitecore-jss/personalize.js';
import { componentSlot, pageSlot } from './variants.ts';

const { DEFAULT_VARIANT } = jssPersonalize;
const KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface VariantExperienceOptions {
  id: string;
  name: string;
  /** A page variant id (no `_`), or a component variant id `<componentId>_<variantId>`. */
  variantId: string;
  /** The page's item id (any GUID format): needed for a page variant. */
  pageId?: string;
  /** Attune targeting: audiences, condition, locales, pages… (default: everyone). */
  targeting?: Record<string, unknown>;
  /** Higher wins when several experiences target one visitor's slot. */
  priority?: number;
}

/** An experience giving one page or component variant to the visitors it targets. */
export function variantExperience(o: VariantExperienceOptions): Record<string, unknown> {
  const cut = o.variantId.indexOf('_');
  let slot: string;
  let key: string;
  if (cut < 0) {
    if (!o.pageId) throw new Error(`variantExperience ${o.id}: "${o.variantId}" is a page variant id (no "_"): give its pageId`);
    slot = pageSlot(o.pageId);
    key = o.variantId;
  } else {
    slot = componentSlot(o.variantId.slice(0, cut));
    key = o.variantId.slice(cut + 1);
  }
  return {
    id: o.id,
    name: o.name,
    ...(o.priority !== undefined ? { priority: o.priority } : {}),
    targeting: o.targeting ?? {},
    variants: [{ key: keyOf(key, 0), slots: { [slot]: { content: { variantId: o.variantId } } } }],
  };
}

export interface ComponentTestOptions {
  id: string;
  name: string;
  /** The test's variant ids, `<componentId>_<variantId>`, all of one component; the control is added. */
  variantIds: string[];
  /** Goals (Segment events) measured per variant, e.g. `{ id: 'signup', event: 'Signed Up' }`. */
  goals: Array<{ id: string; event: string; valueProperty?: string }>;
  /** Weight per variant id, `<componentId>_default` for the control (default: equal). */
  weights?: Record<string, number>;
  /** Percent of eligible visitors in the test (default 100). */
  traffic?: number;
  holdout?: number;
  targeting?: Record<string, unknown>;
}

/** A component A/B test: the experience (control first) and its experiment, both with id `o.id`. */
export function componentTest(o: ComponentTestOptions): { experience: Record<string, unknown>; experiment: Record<string, unknown> } {
  const first = o.variantIds[0];
  if (!first) throw new Error(`componentTest ${o.id}: give at least one variant id`);
  const componentId = first.slice(0, first.indexOf('_'));
  for (const id of o.variantIds) {
    if (!id.includes('_') || id.slice(0, id.indexOf('_')) !== componentId) {
      throw new Error(`componentTest ${o.id}: "${id}" is not a variant of component ${componentId} (expected "${componentId}_<variantId>")`);
    }
  }
  const ids = [`${componentId}${DEFAULT_VARIANT}`, ...o.variantIds];
  const slot = componentSlot(componentId);
  const variants = ids.map((id, i) => ({ key: keyOf(id.slice(componentId.length + 1), i), slots: { [slot]: { content: { variantId: id } } } }));
  const weights = o.weights ? Object.fromEntries(ids.map((id, i) => [variants[i]?.key as string, o.weights?.[id] ?? 0])) : undefined;
  return {
    experience: { id: o.id, name: o.name, targeting: o.targeting ?? {}, variants },
    experiment: {
      id: o.id,
      name: o.name,
      experienceId: o.id,
      ...(o.traffic !== undefined ? { traffic: o.traffic } : {}),
      ...(o.holdout !== undefined ? { holdout: o.holdout } : {}),
      ...(weights ? { weights } : {}),
      goals: o.goals,
    },
  };
}

/** Sitecore ids are lower-case hex, valid variant keys; anything else gets a positional key. */
function keyOf(id: string, i: number): string {
  const key = id.toLowerCase();
  return KEY.test(key) ? key : `v${i}`;
}
