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
  };
}
