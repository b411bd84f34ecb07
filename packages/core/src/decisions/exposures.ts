import { filterMatches } from '../conditions/evaluate.ts';
import type { Filter } from '../conditions/types.ts';
import type { ProfileRecord } from '../profiles/types.ts';
import type { Experiment, Goal } from '../protocol/decisions.ts';
import { utcDay } from './offers.ts';

/**
 * Measurement rides on ingestion: an exposure is a Segment "Experiment Viewed" event
 * (`experiment_id`, `variation_id`), a shown offer is an "Offer Viewed" event (`offer_id`), and
 * goals are ordinary events. They update the profile and the experiment's sufficient statistics in
 * the same transaction as the event, so results never need a rescan.
 */
export const EXPOSURE_EVENT = 'Experiment Viewed';
export const OFFER_VIEWED_EVENT = 'Offer Viewed';
/** The metric row holding exposures; goal rows are keyed by goal id. */
export const EXPOSURES_METRIC = '_exposures';

/** One increment of an experiment's statistics. */
export interface StatDelta {
  experimentId: string;
  variant: string;
  /** `_exposures`, or a goal id. */
  metric: string;
  /** Exposed profiles, or converted profiles for a goal. */
  count: number;
  /** Sum of goal values (revenue). */
  sum: number;
  /** Sum of squared per-profile values added, for the variance of revenue per visitor. */
  sumSquares: number;
}

/** What a profile carries about an experiment it was exposed to. */
export interface ExperimentAssignment {
  variant: string;
  /** Time of the first exposure (event time). */
  at: number;
  /** Goals already converted, so each profile converts at most once per goal. */
  goals?: string[];
  /** Goal value summed per goal, for the revenue variance. */
  values?: Record<string, number>;
}

/** Goals by event name, from the running experiments. */
export interface CompiledGoals {
  byEvent: Map<string, Array<{ experimentId: string; goal: Goal }>>;
  version: string;
}

export const NO_GOALS: CompiledGoals = { byEvent: new Map(), version: 'none' };

export function compileGoals(experiments: readonly Experiment[], version: string): CompiledGoals {
  const byEvent = new Map<string, Array<{ experimentId: string; goal: Goal }>>();
  for (const x of experiments) {
    if (x.status === 'stopped') continue;
    for (const goal of x.goals) {
      let list = byEvent.get(goal.event);
      if (!list) byEvent.set(goal.event, (list = []));
      list.push({ experimentId: x.id, goal });
    }
  }
  return { byEvent, version };
}

/**
 * Applies one stored event's measurement effects to its profile: the first exposure per
 * experiment fixes the variant (sticky) and counts once; a goal event after the exposure counts a
 * conversion once per goal and adds its value every time; an offer view counts toward caps.
 */
export function recordDecisionEvent(
  profile: ProfileRecord,
  event: { name: string; timestamp: number; properties: Record<string, unknown> },
  goals: CompiledGoals,
  deltas: StatDelta[],
): void {
  const props = event.properties;
  if (event.name === EXPOSURE_EVENT) {
    const experimentId = props.experiment_id;
    const variant = props.variation_id;
    if (typeof experimentId !== 'string' || typeof variant !== 'string') return;
    profile.experiments ??= {};
    const had = profile.experiments[experimentId];
    if (had && had.at <= event.timestamp) return;
    if (had) {
      // An exposure older than the one kept (events arrive out of order): it becomes the first.
      if (had.variant === variant) {
        had.at = event.timestamp;
        return;
      }
    }
    profile.experiments[experimentId] = { variant, at: event.timestamp };
    if (!had) deltas.push({ experimentId, variant, metric: EXPOSURES_METRIC, count: 1, sum: 0, sumSquares: 0 });
    return;
  }
  if (event.name === OFFER_VIEWED_EVENT) {
    const offerId = props.offer_id;
    if (typeof offerId !== 'string') return;
    profile.offerImpressions ??= {};
    const day = utcDay(event.timestamp);
    const seen = profile.offerImpressions[offerId] ?? { total: 0, day, today: 0 };
    seen.total += 1;
    if (seen.day === day) seen.today += 1;
    else if (day > seen.day) {
      seen.day = day;
      seen.today = 1;
    }
    profile.offerImpressions[offerId] = seen;
    return;
  }
  const listeners = goals.byEvent.get(event.name);
  if (!listeners || !profile.experiments) return;
  for (const { experimentId, goal } of listeners) {
    const a = profile.experiments[experimentId];
    if (!a || a.at > event.timestamp) continue;
    if (goal.where && !goal.where.every((f) => filterMatches(props, f as Filter))) continue;
    const raw = goal.valueProperty !== undefined ? props[goal.valueProperty] : undefined;
    const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : 0;
    const first = !(a.goals ?? []).includes(goal.id);
    if (first) a.goals = [...(a.goals ?? []), goal.id];
    // The variance of revenue per visitor needs per-profile totals: adding v to a profile whose
    // total was s changes the sum of squares by (s+v)² − s².
    const before = a.values?.[goal.id] ?? 0;
    const after = before + value;
    if (value !== 0) a.values = { ...(a.values ?? {}), [goal.id]: after };
    deltas.push({ experimentId, variant: a.variant, metric: goal.id, count: first ? 1 : 0, sum: value, sumSquares: after * after - before * before });
  }
}

/** Merges the loser's exposures and offer counts into the survivor: the earliest exposure wins. */
export function mergeDecisionState(survivor: ProfileRecord, loser: ProfileRecord): void {
  if (loser.experiments) {
    survivor.experiments ??= {};
    for (const [id, a] of Object.entries(loser.experiments)) {
      const kept = survivor.experiments[id];
      if (!kept || a.at < kept.at) survivor.experiments[id] = a;
    }
    loser.experiments = {};
  }
  if (loser.offerImpressions) {
    survivor.offerImpressions ??= {};
    for (const [id, seen] of Object.entries(loser.offerImpressions)) {
      const kept = survivor.offerImpressions[id];
      if (!kept) survivor.offerImpressions[id] = seen;
      else {
        const day = kept.day >= seen.day ? kept.day : seen.day;
        const today = (kept.day === day ? kept.today : 0) + (seen.day === day ? seen.today : 0);
        survivor.offerImpressions[id] = { total: kept.total + seen.total, day, today };
      }
    }
    loser.offerImpressions = {};
  }
}

/** Sums deltas that share an experiment, variant and metric, so a store writes each row once. */
export function sumStatDeltas(deltas: readonly StatDelta[]): StatDelta[] {
  const rows = new Map<string, StatDelta>();
  for (const d of deltas) {
    const key = `${d.experimentId}\u0000${d.variant}\u0000${d.metric}`;
    const row = rows.get(key);
    if (row) {
      row.count += d.count;
      row.sum += d.sum;
      row.sumSquares += d.sumSquares;
    } else rows.set(key, { ...d });
  }
  return [...rows.values()].sort((a, b) => (a.experimentId + a.variant + a.metric < b.experimentId + b.variant + b.metric ? -1 : 1));
}

/** A stored statistics row (snake_case columns, as both stores name them) as a StatDelta. */
export function statFromRow(r: Record<string, unknown>): StatDelta {
  return {
    experimentId: r.experiment_id as string,
    variant: r.variant as string,
    metric: r.metric as string,
    count: Number(r.count),
    sum: Number(r.sum),
    sumSquares: Number(r.sum_squares),
  };
}
