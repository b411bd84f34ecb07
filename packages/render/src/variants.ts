/**
 * Choosing among variants that a CMS stores with their bindings (Strapi's "Personalized slot"):
 * each variant is shown to an audience, or is one arm of an experiment, or is the default. The
 * visitor is described by what the engine knows: audiences now, experiment assignments, and any
 * slot decisions already made.
 */

import type { SlotDecision } from '@attune/core';

export type VariantBinding =
  | { kind: 'audience'; id: string; name?: string }
  | { kind: 'experiment'; id: string; variant: string; name?: string }
  | { kind: 'default'; name?: string };

export interface VariantVisitor {
  /** Audience ids the visitor is a member of (a decision snapshot's `audiences`). */
  audiences?: readonly string[];
  /** Experiment id → assigned variant (a decision snapshot's `assignments`). */
  assignments?: Readonly<Record<string, { variant: string }>>;
  /** Decisions made for the page's slots; an experiment decision assigns its variant. */
  decisions?: Readonly<Record<string, SlotDecision>> | readonly SlotDecision[];
}

export interface ChosenVariant<T> {
  variant: T | null;
  index: number;
  reason: 'experiment' | 'audience' | 'default' | 'none';
}

function bindingOf(variant: unknown): VariantBinding | null {
  const b = (variant as { binding?: unknown } | null)?.binding as Partial<VariantBinding> | null | undefined;
  if (!b || typeof b !== 'object' || typeof b.kind !== 'string') return null;
  return b as VariantBinding;
}

/**
 * The variant to show: an experiment arm the visitor is assigned to first (experiments measure
 * what is shown), then the first audience variant the visitor belongs to, in the editor's order,
 * then the default variant (or an unbound one), else none.
 */
export function chooseVariant<T>(variants: readonly T[], visitor: VariantVisitor): ChosenVariant<T> {
  const assigned = new Map<string, string>();
  for (const [experiment, a] of Object.entries(visitor.assignments ?? {})) assigned.set(experiment, a.variant);
  const decisions = Array.isArray(visitor.decisions) ? visitor.decisions : Object.values(visitor.decisions ?? {});
  for (const d of decisions as SlotDecision[]) if (d.experiment && d.variant) assigned.set(d.experiment, d.variant);
  const audiences = new Set(visitor.audiences ?? []);

  const find = (match: (b: VariantBinding | null) => boolean, reason: ChosenVariant<T>['reason']): ChosenVariant<T> | null => {
    const index = variants.findIndex((v) => match(bindingOf(v)));
    return index === -1 ? null : { variant: variants[index] as T, index, reason };
  };
  return (
    find((b) => b?.kind === 'experiment' && assigned.get(b.id) === b.variant, 'experiment') ??
    find((b) => b?.kind === 'audience' && audiences.has(b.id), 'audience') ??
    find((b) => b === null || b.kind === 'default', 'default') ?? { variant: null, index: -1, reason: 'none' }
  );
}
