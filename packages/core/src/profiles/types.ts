import { counterKeyOf } from '../conditions/analyze.ts';
import type { ExperimentAssignment } from '../decisions/exposures.ts';
import type { OfferImpressions } from '../decisions/offers.ts';
import type { ConsentState } from '../privacy/consent.ts';
import type { ShoppingState } from '../recommend/shopping.ts';

/** A device seen on a profile, from `context.device` / `context.userAgent`. */
export interface DeviceSeen {
  /** `context.device.id` when sent, else a fingerprint of type, os and browser. */
  key: string;
  type: 'mobile' | 'tablet' | 'desktop' | 'server' | 'other';
  os?: string | undefined;
  browser?: string | undefined;
  lastSeen: number;
}

export type Channel = 'web' | 'app' | 'store' | 'back_office';

/**
 * Aggregates kept incrementally at ingestion. Every field merges without history
 * (sums add, extremes take min or max, sets union), which is what makes a profile merge
 * cheap and exact.
 */
export interface ComputedTraits {
  eventCounts: Record<string, number>;
  firstSeen: number | null;
  lastSeen: number | null;
  sessions: number;
  /** Latest activity time, by event timestamp; a gap over the session timeout opens a session. */
  lastActivityAt: number | null;
  orders: number;
  revenue: number;
  refunded: number;
  cancelled: number;
  lastOrderAt: number | null;
  currency: string | null;
  /** View counts per category and brand, capped to the most viewed. */
  categoryViews: Record<string, number>;
  brandViews: Record<string, number>;
  devices: DeviceSeen[];
  channels: Channel[];
  accountDeletedAt: number | null;
  /** Recent items and shopping affinities, for recommendations (recommend/shopping.ts). */
  shopping?: ShoppingState;
}

export interface TraitMeta {
  /** Event time of the write that set the current value. */
  at: number;
  /** Set with setOnce: the earliest value is kept. */
  once?: boolean;
}

export interface ProfileRecord {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** Set when this profile was merged away; reads follow it to the survivor. */
  mergedInto: string | null;
  traits: Record<string, unknown>;
  traitMeta: Record<string, TraitMeta>;
  computed: ComputedTraits;
  /** B2B accounts (group calls) this profile belongs to. */
  accountIds: string[];
  /** Number of linked identifiers per type, for identity limits. */
  identityCounts: Record<string, number>;
  /** Audiences the profile is a member of, with the time it entered each. */
  audiences: Record<string, number>;
  /** Incremental event summaries audiences are evaluated on, by counter key (see audiences/counters.ts). */
  counters: Record<string, CounterState>;
  /** The audience check scheduled for this profile (mirrors the store's schedule, to skip rewriting it). */
  nextCheckAt?: number | null;
  /** Request context of the latest web or app event (page, UTM, geo, device), for context conditions. */
  lastContext?: Record<string, unknown>;
  /** Experiments the profile was exposed to, with the variant it keeps (decisions/exposures.ts). */
  experiments?: Record<string, ExperimentAssignment>;
  /** Offer impressions, for frequency caps. */
  offerImpressions?: Record<string, OfferImpressions>;
  /** Consent by purpose and its history of grants and revocations (privacy/consent.ts). */
  consent?: ConsentState;
}

/** The matching events one counter keeps: time and the properties conditions read. */
export interface CounterState {
  entries: Array<{ t: number; p?: Record<string, unknown> }>;
  /** Entries dropped past the cap: counts above the cap saturate. */
  dropped?: number;
}

/** What a store keeps in a profile's document column: everything but the key columns. */
export type ProfileData = Omit<ProfileRecord, 'id' | 'createdAt' | 'updatedAt' | 'mergedInto'>;

export function profileDataOf(p: ProfileRecord): ProfileData {
  const { id: _id, createdAt: _c, updatedAt: _u, mergedInto: _m, ...data } = p;
  return data;
}

/** Rebuilds a profile from its key columns and document, filling fields added since it was written. */
export function profileFromData(
  keys: Pick<ProfileRecord, 'id' | 'createdAt' | 'updatedAt' | 'mergedInto'>,
  data: Partial<ProfileData>,
): ProfileRecord {
  // One literal of a fixed shape, optional fields assigned after (object spreads here cost
  // several times the rest: this runs per profile in ingestion and recompute).
  const p: ProfileRecord = {
    id: keys.id,
    mergedInto: keys.mergedInto,
    createdAt: keys.createdAt,
    updatedAt: keys.updatedAt,
    traits: data.traits ?? {},
    traitMeta: data.traitMeta ?? {},
    computed: data.computed ?? emptyComputed(),
    accountIds: data.accountIds ?? [],
    identityCounts: data.identityCounts ?? {},
    audiences: data.audiences ?? {},
    counters: shortCounterKeys(data.counters ?? {}),
  };
  if (data.lastContext) p.lastContext = data.lastContext;
  if (data.nextCheckAt !== undefined) p.nextCheckAt = data.nextCheckAt;
  if (data.experiments) p.experiments = data.experiments;
  if (data.offerImpressions) p.offerImpressions = data.offerImpressions;
  if (data.consent) p.consent = data.consent;
  return p;
}

export interface AccountRecord {
  id: string;
  traits: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export function emptyComputed(): ComputedTraits {
  return {
    eventCounts: {},
    firstSeen: null,
    lastSeen: null,
    sessions: 0,
    lastActivityAt: null,
    orders: 0,
    revenue: 0,
    refunded: 0,
    cancelled: 0,
    lastOrderAt: null,
    currency: null,
    categoryViews: {},
    brandViews: {},
    devices: [],
    channels: [],
    accountDeletedAt: null,
  };
}

export function newProfile(id: string, at: number): ProfileRecord {
  return {
    id,
    createdAt: at,
    updatedAt: at,
    mergedInto: null,
    traits: {},
    traitMeta: {},
    computed: emptyComputed(),
    accountIds: [],
    identityCounts: {},
    audiences: {},
    counters: {},
  };
}

/** Records written before counters had short keys held the canonical question as the key: rename on read. */
function shortCounterKeys(counters: Record<string, CounterState>): Record<string, CounterState> {
  let legacy = false;
  for (const k in counters) {
    if (k.charCodeAt(0) === 123 /* { */) {
      legacy = true;
      break;
    }
  }
  if (!legacy) return counters;
  const out: Record<string, CounterState> = {};
  for (const [k, v] of Object.entries(counters)) {
    Object.defineProperty(out, k.charCodeAt(0) === 123 ? counterKeyOf(k) : k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
