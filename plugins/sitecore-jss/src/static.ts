/**
 * Static builds: the permutations of a route's variants a build pre-renders (capped, the fewest
 * variants first), and the pick of one rendered permutation for a visitor's decided variants.
 */
import jssPersonalize from '@sitecore-jss/sitecore-jss/personalize.js';
import { type PersonalizeInfo, variantGroups } from './variants.ts';

const { getPersonalizedRewrite } = jssPersonalize;

export interface VariantPermutation {
  /** Non-default variant ids, page variant first (an empty list is the default page). */
  variantIds: string[];
  /** The `/_variantId_…/path` a static build renders it at (JSS's rewrite form). */
  path: string;
}

export interface VariantManifest {
  path: string;
  language: string;
  pageId: string;
  permutations: VariantPermutation[];
  /** How many permutations the route has in all; more than listed when capped. */
  total: number;
  truncated: boolean;
}

export interface VariantManifestOptions {
  path: string;
  language: string;
  /** At most this many permutations (default 32); the default and single variants come first. */
  cap?: number;
}

export function variantManifest(info: PersonalizeInfo, options: VariantManifestOptions): VariantManifest {
  const cap = options.cap ?? 32;
  if (!Number.isInteger(cap) || cap < 1) throw new Error(`variantManifest: cap must be a positive integer, got ${cap}`);
  // Per group, the non-default ids to choose from; a group may also stay on its default.
  const choices = variantGroups(info).map((g) => g.variantIds.filter((id) => id !== g.defaultId));
  const total = choices.reduce((n, c) => n * (c.length + 1), 1);
  const permutations: VariantPermutation[] = [];
  const add = (ids: string[]) => permutations.push({ variantIds: ids, path: ids.length === 0 ? options.path : getPersonalizedRewrite(options.path, ids) });

  // k = number of groups off their default: 0, then 1, then 2… until the cap.
  for (let k = 0; k <= choices.length && permutations.length < cap; k++) {
    const pick = (from: number, left: number, ids: string[]): void => {
      if (permutations.length >= cap) return;
      if (left === 0) {
        add(ids);
        return;
      }
      for (let g = from; g <= choices.length - left; g++) {
        for (const id of choices[g] as string[]) {
          pick(g + 1, left - 1, [...ids, id]);
          if (permutations.length >= cap) return;
        }
      }
    };
    pick(0, k, []);
  }
  return { path: options.path, language: options.language, pageId: info.pageId, permutations, total, truncated: permutations.length < total };
}

/**
 * The rendered permutation to serve a visitor: the exact one when it was built, else the one
 * keeping most of the visitor's variants (the page variant first) and none they were not given.
 */
export function pickPermutation(manifest: VariantManifest, variantIds: readonly string[]): { permutation: VariantPermutation; exact: boolean } {
  const wanted = new Set(variantIds);
  let best: VariantPermutation | undefined;
  let bestScore = -1;
  for (const p of manifest.permutations) {
    if (!p.variantIds.every((id) => wanted.has(id))) continue;
    if (p.variantIds.length === wanted.size) return { permutation: p, exact: true };
    const page = p.variantIds.some((id) => !id.includes('_')) ? 1000 : 0;
    const score = page + p.variantIds.length;
    if (score > bestScore) {
      best = p;
      bestScore = score;
    }
  }
  if (!best) throw new Error(`variant manifest of ${manifest.path} (${manifest.language}) has no default permutation`);
  return { permutation: best, exact: false };
}
