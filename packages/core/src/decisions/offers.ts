import { evaluateCondition } from '../conditions/evaluate.ts';
import type { ConditionSubject } from '../conditions/types.ts';
import type { Offer } from '../protocol/decisions.ts';
import { readPath } from './tables.ts';

/** How often a profile has been shown an offer: in all, and on one UTC day. */
export interface OfferImpressions {
  total: number;
  /** `YYYY-MM-DD` (UTC) of `today`. */
  day: string;
  today: number;
}

export interface RankedOffer {
  id: string;
  name: string;
  content: unknown;
  priority: number;
  score: number;
}

export interface OfferTrace {
  offer: string;
  eligible: boolean;
  reason: string;
  score?: number;
}

export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function inSchedule(schedule: { start?: string | undefined; end?: string | undefined } | undefined, now: number): boolean {
  if (!schedule) return true;
  if (schedule.start !== undefined && now < Date.parse(schedule.start)) return false;
  if (schedule.end !== undefined && now >= Date.parse(schedule.end)) return false;
  return true;
}

/**
 * The offer's score: `base` + Σ weight × numeric trait + weight × the visitor's share of views in
 * the offer's category or brand (0..1, from the computed view counts). Missing or non-numeric
 * traits count 0.
 */
export function offerScore(offer: Offer, subject: ConditionSubject): number {
  const s = offer.score;
  if (!s) return 0;
  let score = s.base;
  for (const t of s.traits ?? []) {
    const [root, ...rest] = t.path.split('.');
    const v = readPath(root === 'traits' ? subject.traits : subject.computed, rest.join('.'));
    if (typeof v === 'number' && Number.isFinite(v)) score += t.weight * v;
  }
  if (s.affinity) {
    const share = (views: unknown, key: string | undefined): number => {
      if (key === undefined || views === null || typeof views !== 'object') return 0;
      const counts = views as Record<string, number>;
      let total = 0;
      for (const k in counts) total += counts[k] ?? 0;
      return total > 0 ? (counts[key] ?? 0) / total : 0;
    };
    score += s.affinity.weight * Math.max(share(subject.computed.categoryViews, s.affinity.category), share(subject.computed.brandViews, s.affinity.brand));
  }
  return score;
}

/**
 * Next best action: the eligible offers (in schedule, eligibility condition true, under their
 * frequency caps), ordered by priority (rules first), then score, then id.
 */
export function rankOffers(
  offers: readonly Offer[],
  subject: ConditionSubject,
  impressions: Readonly<Record<string, OfferImpressions>>,
  now: number,
  limit: number,
  trace?: OfferTrace[],
): RankedOffer[] {
  const today = utcDay(now);
  const eligible: RankedOffer[] = [];
  for (const offer of offers) {
    const why = ineligible(offer, subject, impressions[offer.id], now, today);
    if (why) {
      trace?.push({ offer: offer.id, eligible: false, reason: why });
      continue;
    }
    const score = offerScore(offer, subject);
    trace?.push({ offer: offer.id, eligible: true, reason: 'eligible', score });
    eligible.push({ id: offer.id, name: offer.name, content: offer.content, priority: offer.priority, score });
  }
  eligible.sort((a, b) => b.priority - a.priority || b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return eligible.slice(0, limit);
}

function ineligible(offer: Offer, subject: ConditionSubject, seen: OfferImpressions | undefined, now: number, today: string): string | null {
  if (!inSchedule(offer.schedule, now)) return 'out of schedule';
  if (offer.caps?.total !== undefined && (seen?.total ?? 0) >= offer.caps.total) return `total cap ${offer.caps.total} reached`;
  if (offer.caps?.perDay !== undefined && seen?.day === today && seen.today >= offer.caps.perDay) return `daily cap ${offer.caps.perDay} reached`;
  if (offer.eligibility && !evaluateCondition(offer.eligibility, subject, now)) return 'eligibility condition false';
  return null;
}
