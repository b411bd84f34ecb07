import type { ProfileRecord } from '../profiles/types.ts';
import { type DecisionProfile, decisionProfileOfRecord, type IdentityKey, identityKeyString, type Store, type StoreTx } from '../store.ts';

export interface DecisionProfileCacheOptions {
  /**
   * How long an entry may be served. Every write made through this process's store invalidates
   * the profiles it touched at commit, so the TTL only bounds what other writers (another node on
   * a shared database, a CLI on the same file) can leave stale.
   */
  ttlMs: number;
  /** Entries kept (oldest evicted first). */
  maxEntries: number;
  now: () => number;
}

export interface DecisionProfileCacheStats {
  hits: number;
  misses: number;
  invalidations: number;
  /** Cached entries replaced by the profile a committed local write stored (no read needed). */
  refreshes: number;
  size: number;
}

interface Entry {
  value: DecisionProfile | null;
  at: number;
}

/**
 * Wraps a store so that decide's profile read (`decisionProfile`) is served from memory while
 * the profile has not changed. Writes are seen through `transaction`: a profile a committed
 * transaction only rewrote (events, counters, exposures, impressions) replaces its cached entries
 * with what was stored, so the next decision needs no read; profiles whose identifiers changed
 * (links, merges, erasure), and everything a failed transaction touched, are dropped. A read that
 * raced a commit is not cached, so a decision never sees data older than the last local commit.
 *
 * A record given to `putProfiles` must not be changed afterwards (ingestion, audience checks,
 * recompute and privacy all read fresh records in each transaction and write them last).
 */
export function withDecisionProfileCache(store: Store, options: DecisionProfileCacheOptions): { store: Store; stats: () => DecisionProfileCacheStats } {
  const entries = new Map<string, Entry>();
  /** identifier key → profile id it resolved to, and the reverse, to invalidate by profile. */
  const keysOfProfile = new Map<string, Set<string>>();
  const profileOfKey = new Map<string, string>();
  /** Last invalidation sequence per identifier key and per profile id ('p:' prefix). */
  const invalidatedAt = new Map<string, number>();
  let seq = 0;
  let inflight = 0;
  const stats = { hits: 0, misses: 0, invalidations: 0, refreshes: 0 };

  const forgetKey = (key: string) => {
    entries.delete(key);
    const pid = profileOfKey.get(key);
    if (pid !== undefined) {
      profileOfKey.delete(key);
      keysOfProfile.get(pid)?.delete(key);
    }
  };

  function invalidate(profileIds: Iterable<string>, keys: Iterable<string>): void {
    const at = ++seq;
    for (const pid of profileIds) {
      invalidatedAt.set(`p:${pid}`, at);
      const keysOf = keysOfProfile.get(pid);
      if (keysOf) for (const key of [...keysOf]) forgetKey(key);
      keysOfProfile.delete(pid);
      stats.invalidations++;
    }
    for (const key of keys) {
      invalidatedAt.set(key, at);
      forgetKey(key);
      stats.invalidations++;
    }
    // Races are only possible with reads in flight; with none, the history can go.
    if (inflight === 0) invalidatedAt.clear();
  }

  /** Replaces the cached entries of profiles a committed transaction stored (identifiers unchanged). */
  function refresh(records: Iterable<ProfileRecord>): void {
    const at = ++seq;
    const now = options.now();
    for (const record of records) {
      // A read of this profile in flight started before the commit: it must not be kept.
      invalidatedAt.set(`p:${record.id}`, at);
      const keysOf = keysOfProfile.get(record.id);
      if (!keysOf) continue;
      const value = decisionProfileOfRecord(record);
      for (const key of keysOf) entries.set(key, { value, at: now });
      stats.refreshes++;
    }
    if (inflight === 0) invalidatedAt.clear();
  }

  async function decisionProfile(key: IdentityKey): Promise<DecisionProfile | null> {
    const k = identityKeyString(key);
    const now = options.now();
    const hit = entries.get(k);
    if (hit && now - hit.at < options.ttlMs) {
      stats.hits++;
      return hit.value;
    }
    stats.misses++;
    const started = seq;
    inflight++;
    let value: DecisionProfile | null;
    try {
      value = await store.decisionProfile(key);
    } finally {
      inflight--;
    }
    const raced = (invalidatedAt.get(k) ?? 0) > started || (value !== null && (invalidatedAt.get(`p:${value.id}`) ?? 0) > started);
    if (inflight === 0) invalidatedAt.clear();
    if (raced) return value;
    forgetKey(k);
    if (entries.size >= options.maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) forgetKey(oldest);
    }
    entries.set(k, { value, at: now });
    if (value !== null) {
      profileOfKey.set(k, value.id);
      let set = keysOfProfile.get(value.id);
      if (!set) keysOfProfile.set(value.id, (set = new Set()));
      set.add(k);
    }
    return value;
  }

  /** `profiles`/`keys`: dropped at the end; `written`: the last record stored per profile. */
  function tracking(tx: StoreTx, profiles: Set<string>, keys: Set<string>, written: Map<string, ProfileRecord>): StoreTx {
    return {
      ...tx,
      async linkIdentities(links) {
        for (const l of links) {
          keys.add(identityKeyString(l));
          profiles.add(l.profileId);
        }
        return tx.linkIdentities(links);
      },
      async moveIdentities(from, to) {
        profiles.add(from);
        profiles.add(to);
        return tx.moveIdentities(from, to);
      },
      async putProfiles(list) {
        for (const p of list) {
          written.set(p.id, p);
          if (p.mergedInto) {
            profiles.add(p.id);
            profiles.add(p.mergedInto);
          }
        }
        return tx.putProfiles(list);
      },
      async putAudienceStates(updates) {
        const stored = await tx.putAudienceStates(updates);
        // The records as read (or, unread, as the store handed them back) plus the new state: what the rows now hold.
        for (const u of updates) if (stored.has(u.profile.id)) written.set(u.profile.id, u.profile);
        return stored;
      },
      async eraseProfile(profileId) {
        const erased = await tx.eraseProfile(profileId);
        profiles.add(profileId);
        for (const id of erased.profileIds) profiles.add(id);
        for (const i of erased.identities) keys.add(identityKeyString(i));
        return erased;
      },
    };
  }

  const wrapped: Store = {
    ...store,
    decisionProfile,
    async transaction(fn, txOptions) {
      const profiles = new Set<string>();
      const keys = new Set<string>();
      const written = new Map<string, ProfileRecord>();
      let committed = false;
      try {
        const result = await store.transaction((tx) => fn(tracking(tx, profiles, keys, written)), txOptions);
        committed = true;
        return result;
      } finally {
        if (committed) {
          const kept = [...written.values()].filter((p) => !profiles.has(p.id));
          if (kept.length > 0) refresh(kept);
        } else {
          // Rolled back: dropping entries is always safe.
          for (const id of written.keys()) profiles.add(id);
        }
        if (profiles.size > 0 || keys.size > 0) invalidate(profiles, keys);
      }
    },
  };
  return { store: wrapped, stats: () => ({ ...stats, size: entries.size }) };
}
