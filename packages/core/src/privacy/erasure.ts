import { EXPOSURES_METRIC, type StatDelta } from '../decisions/exposures.ts';
import type { ProfileRecord } from '../profiles/types.ts';

/**
 * What a profile added to experiments' sufficient statistics, negated: its exposure (one per
 * experiment), each converted goal (one per goal) and its goal values. Adding these deltas takes
 * the profile out of the results exactly, without a rescan.
 */
export function statWithdrawals(profile: ProfileRecord): StatDelta[] {
  const out: StatDelta[] = [];
  for (const [experimentId, a] of Object.entries(profile.experiments ?? {})) {
    out.push({ experimentId, variant: a.variant, metric: EXPOSURES_METRIC, count: -1, sum: 0, sumSquares: 0 });
    const goals = new Set([...(a.goals ?? []), ...Object.keys(a.values ?? {})]);
    for (const goal of goals) {
      const value = a.values?.[goal] ?? 0;
      out.push({ experimentId, variant: a.variant, metric: goal, count: (a.goals ?? []).includes(goal) ? -1 : 0, sum: -value, sumSquares: -(value * value) });
    }
  }
  return out;
}

/** An identifier as a receipt shows it: enough to recognise, not enough to re-identify. */
export function maskIdentifier(value: string): string {
  const at = value.indexOf('@');
  if (at > 0) return `${value[0]}***${value.slice(at)}`;
  return value.length <= 4 ? '***' : `${value.slice(0, 2)}***${value.slice(-2)}`;
}
