/**
 * Attune decides, JSS applies: the variant ids for a route come from Attune decisions (under the
 * slot resolver's latency budget, with last-good and default fallbacks), and JSS's own
 * personalizeLayout and rewrite helpers turn them into a layout or a `/_variantId_…` path.
 */
import { createSlotResolver, type DecisionCache, type DecisionSource, type ResolvedSlot, type SlotResolver } from '@attune/render';
import type { LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';
import jssPersonalize from '@sitecore-jss/sitecore-jss/personalize.js';
import { type PersonalizeInfo, personalizeInfoOf, type VariantGroup, variantGroups, variantIdOf } from './variants.ts';

const { getGroomedVariantIds, getPersonalizedRewrite, getPersonalizedRewriteData, normalizePersonalizedRewrite, personalizeLayout } = jssPersonalize;

export interface VisitorIds {
  anonymousId?: string | undefined;
  userId?: string | undefined;
}

export interface ResolveInput extends VisitorIds {
  /** The route's path (a `/_variantId_…` prefix is removed first). */
  path: string;
  language: string;
  /** The route's variant ids, from Experience Edge or from its layout. */
  info: PersonalizeInfo | undefined;
  /** More decide context (url, site, geo, utm, referrer…); path and locale are filled in. */
  context?: Record<string, unknown>;
}

export interface ResolvedSlotVariant extends ResolvedSlot {
  group: VariantGroup;
  /** The Sitecore variant id chosen, or null for the default. */
  variantId: string | null;
}

export interface ResolvedVariants {
  path: string;
  language: string;
  /** The chosen variant ids, page variant first: what goes into the rewrite path. */
  variantIds: string[];
  /** JSS's grooming of them: the page variant (`_default` when none) and the component variants. */
  variantId: string;
  componentVariantIds: string[];
  slots: Record<string, ResolvedSlotVariant>;
}

export interface JssPersonalizerOptions {
  /** Where decisions come from: `httpDecisionSource` (Attune's /v1/decide) or a local source. */
  source: DecisionSource;
  /** How long a request waits for Attune before the last good decision, then the default (150 ms). */
  budgetMs?: number;
  /** Last good decisions per visitor and slot (default: in memory, 10,000 entries). */
  cache?: DecisionCache;
  /** Or a resolver built elsewhere (its budget and cache apply; `source` is then unused). */
  resolver?: SlotResolver;
}

export interface JssPersonalizer {
  /** Decides the route's variants for one visitor. No variants configured: no decide call. */
  resolve(input: ResolveInput): Promise<ResolvedVariants>;
  /** A copy of the layout with the variants applied by JSS's personalizeLayout. */
  apply(layout: LayoutServiceData, variants: Pick<ResolvedVariants, 'variantId' | 'componentVariantIds'>): LayoutServiceData;
  /** Decides the layout's variants (read from the layout itself) and applies them. */
  personalize(layout: LayoutServiceData, input: Omit<ResolveInput, 'info' | 'path' | 'language'> & { path?: string; language?: string }): Promise<{ layout: LayoutServiceData; variants: ResolvedVariants }>;
  /** The `/_variantId_<id>/…/path` JSS renders from (the path itself when all are default). */
  rewrite(variants: ResolvedVariants): string;
}

export function createJssPersonalizer(options: JssPersonalizerOptions): JssPersonalizer {
  const resolver = options.resolver ?? createSlotResolver({ source: options.source, ...(options.budgetMs !== undefined ? { budgetMs: options.budgetMs } : {}), ...(options.cache ? { cache: options.cache } : {}) });

  async function resolve(input: ResolveInput): Promise<ResolvedVariants> {
    const path = normalizePersonalizedRewrite(input.path);
    const groups = input.info ? variantGroups(input.info) : [];
    const slots: Record<string, ResolvedSlotVariant> = {};
    if (groups.length > 0) {
      const resolved = await resolver.resolve({
        ...(input.anonymousId ? { anonymousId: input.anonymousId } : {}),
        ...(input.userId ? { userId: input.userId } : {}),
        context: { ...input.context, path, locale: input.language },
        slots: groups.map((g) => g.slot),
      });
      for (const group of groups) {
        const r = resolved[group.slot] ?? { source: 'default' as const, decision: null };
        slots[group.slot] = { ...r, group, variantId: variantIdOf(group, r.decision) };
      }
    }
    const variantIds = Object.values(slots)
      .map((s) => s.variantId)
      .filter((id): id is string => id !== null);
    const groomed = getGroomedVariantIds(variantIds);
    return { path, language: input.language, variantIds, variantId: groomed.variantId, componentVariantIds: groomed.componentVariantIds ?? [], slots };
  }

  function apply(layout: LayoutServiceData, variants: Pick<ResolvedVariants, 'variantId' | 'componentVariantIds'>): LayoutServiceData {
    // personalizeLayout changes the layout in place; the caller's copy (often cached) stays intact.
    const copy = structuredClone(layout);
    personalizeLayout(copy, variants.variantId, variants.componentVariantIds);
    return copy;
  }

  return {
    resolve,
    apply,
    async personalize(layout, input) {
      const context = layout.sitecore?.context;
      const variants = await resolve({
        ...input,
        path: input.path ?? context?.itemPath ?? '/',
        language: input.language ?? context?.language ?? 'en',
        // Editors see the layout as authored: no decisions in the page editor or preview.
        info: context?.pageEditing ? undefined : personalizeInfoOf(layout),
      });
      return { layout: apply(layout, variants), variants };
    },
    rewrite: (variants) => (variants.variantIds.length === 0 ? variants.path : getPersonalizedRewrite(variants.path, variants.variantIds)),
  };
}

/** The variants a rewritten path carries (JSS's parsing), for the page that renders it. */
export function variantsOfPath(pathname: string): { path: string; variantId: string; componentVariantIds: string[] } {
  const data = getPersonalizedRewriteData(pathname);
  return { path: normalizePersonalizedRewrite(pathname), variantId: data.variantId, componentVariantIds: data.componentVariantIds ?? [] };
}
