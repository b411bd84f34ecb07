import { applyAudiences, persistAudienceWrites } from '../audiences/apply.ts';
import type { CompiledAudiences } from '../audiences/compiled.ts';
import { emptyChanges, type ProfileChanges } from '../audiences/compiled.ts';
import { mergeCounters, recordInCounters } from '../audiences/counters.ts';
import { type CompiledGoals, EXPOSURE_EVENT, mergeDecisionState, NO_GOALS, OFFER_VIEWED_EVENT, recordDecisionEvent, type StatDelta } from '../decisions/exposures.ts';
import type { IdentityConfig } from '../identity/identifiers.ts';
import { extractIdentifiers, normalizeEmail, normalizePhone } from '../identity/identifiers.ts';
import { type ConsentChange, type ConsentConfig, recordConsent } from '../privacy/consent.ts';
import { gateGroup, type IngestPrivacy } from '../privacy/gate.ts';
import { applyEvent, mergeComputed } from '../profiles/computed.ts';
import { incrementTraits, mergeTraits, unsetTraits, writeTraits } from '../profiles/traits.ts';
import { type AccountRecord, newProfile, type ProfileRecord } from '../profiles/types.ts';
import type { Message } from '../protocol/segment.ts';
import { encodeRecommendWrites, RecommendDeltas } from '../recommend/deltas.ts';
import { mergeShopping, recordShopping } from '../recommend/shopping.ts';
import { type IdentityKey, identityKeyString, type StoredEvent, type StoreTx } from '../store.ts';

export interface GroupSettings {
  /** The audiences in force when the group is committed. */
  audiences: () => CompiledAudiences;
  /** Goals of the running experiments, for conversions counted at ingestion. */
  goals?: () => CompiledGoals;
  identity: IdentityConfig;
  sessionTimeoutMs: number;
  newId: () => string;
  now: () => number;
  /** The consent gate and identifier suppression (privacy/gate.ts); absent: every call is kept whole. */
  privacy?: IngestPrivacy;
}

export interface GroupOutcome {
  /** Per input message: the profile it landed on, or null for a repeated messageId. */
  profileIds: Array<string | null>;
  merges: Array<{ from: string; into: string }>;
  /** Per input message: dropped by the consent gate or an erased identifier's suppression. */
  dropped: boolean[];
  /** Recommendation counters were queued (a fold is due). */
  recommendQueued: boolean;
}

const ORDER_EVENTS = new Set(['Order Completed', 'Order Placed']);

/**
 * Ingests a group of validated messages in one store transaction: idempotency, identity
 * resolution and merges, trait writes, computed aggregates and the event rows. Reads are
 * batched up front (one identity lookup, one profile read) so a group costs a few round
 * trips whatever its size. Runs again from scratch if the store retries the transaction.
 */
export async function ingestGroup(tx: StoreTx, input: Message[], settings: GroupSettings): Promise<GroupOutcome> {
  let messages = input;
  const fresh = await tx.claim(
    'message',
    messages.map((m) => m.messageId),
  );
  const seenInGroup = new Set<string>();
  const isNew = messages.map((m) => {
    if (!fresh.has(m.messageId) || seenInGroup.has(m.messageId)) return false;
    seenInGroup.add(m.messageId);
    return true;
  });

  const compiled = settings.audiences();
  const goals = settings.goals?.() ?? NO_GOALS;
  const now = settings.now();
  const state = new GroupState(tx, settings, compiled);
  const rawKeys = messages.map((m, i) => (isNew[i] ? extractIdentifiers(m, settings.identity) : []));
  const allKeys: IdentityKey[] = [];
  for (const [i, keys] of rawKeys.entries()) {
    allKeys.push(...keys);
    const m = messages[i] as Message;
    if (isNew[i] && m.type === 'alias') allKeys.push(...aliasPreviousKeys(m.previousId));
  }
  await state.prefetch(allKeys);
  // The consent gate runs before anything is resolved or stored: what is left is all that is kept.
  const gate = settings.privacy
    ? await gateGroup(tx, messages, isNew, rawKeys, messages.map(eventName), settings.privacy, settings.identity, (keys) => state.storedConsent(keys), now)
    : { messages: messages as Array<Message | null>, keys: rawKeys, consent: messages.map(() => null) };
  const keysPerMessage = gate.keys;
  messages = messages.map((m, i) => gate.messages[i] ?? m);
  const dropped = messages.map((_, i) => isNew[i] === true && gate.messages[i] === null);

  const orderIds: string[] = [];
  const cancelIds: string[] = [];
  for (const [i, m] of messages.entries()) {
    if (!isNew[i] || dropped[i] || m.type !== 'track') continue;
    const orderId = (m.properties as Record<string, unknown> | undefined)?.order_id;
    if (typeof orderId !== 'string') continue;
    if (ORDER_EVENTS.has(m.event)) orderIds.push(orderId);
    if (m.event === 'Order Cancelled') cancelIds.push(orderId);
  }
  const newOrders = orderIds.length > 0 ? await tx.claim('order', orderIds) : new Set<string>();
  const newCancels = cancelIds.length > 0 ? await tx.claim('order-cancel', cancelIds) : new Set<string>();

  const profileIds: Array<string | null> = [];
  for (const [i, m] of messages.entries()) {
    const consent = gate.consent[i];
    if (!isNew[i] || dropped[i]) {
      // A dropped call still records a consent change on the profile it names, if one exists.
      if (consent && settings.privacy) await state.recordConsentOn(rawKeys[i] as IdentityKey[], consent, settings.privacy.consent);
      profileIds.push(null);
      continue;
    }
    const profileId =
      m.type === 'alias' ? await state.resolveAlias(m) : await state.resolve(keysPerMessage[i] as IdentityKey[]);
    const profile = state.profile(profileId);
    if (consent && settings.privacy) profile.consent = recordConsent(profile.consent, consent, settings.privacy.consent);
    const timestamp = Date.parse(m.timestamp);
    const event: StoredEvent = {
      messageId: m.messageId,
      profileId,
      type: m.type,
      name: eventName(m),
      timestamp,
      receivedAt: Date.parse(m.receivedAt),
      message: m,
    };
    const orderId = m.type === 'track' ? (m.properties as Record<string, unknown> | undefined)?.order_id : undefined;
    const countsAsNewOrder = typeof orderId === 'string' && newOrders.delete(orderId);
    const countsAsNewCancellation =
      m.type === 'track' && m.event === 'Order Cancelled' && typeof orderId === 'string' && newCancels.delete(orderId);
    applyEvent(profile.computed, event, {
      sessionTimeoutMs: settings.sessionTimeoutMs,
      countsAsNewOrder,
      countsAsNewCancellation,
    });
    recordShopping(profile.computed, event, countsAsNewOrder, state.recommend, countsAsNewCancellation);
    await state.applyTraits(profile, m, timestamp);
    const changed = state.changesOf(profile.id);
    changed.calls = true;
    if (m.type === 'identify' || m.type === 'group' || (m.type === 'track' && (m.event === 'Account Created' || m.event === 'Account Updated'))) changed.traits = true;
    if (m.type === 'track' && (goals.byEvent.size > 0 || m.event === EXPOSURE_EVENT || m.event === OFFER_VIEWED_EVENT)) {
      recordDecisionEvent(profile, { name: m.event, timestamp, properties: (m.properties ?? {}) as Record<string, unknown> }, goals, state.statDeltas);
    }
    if (m.type === 'track' || m.type === 'page' || m.type === 'screen') {
      if (compiled.specs.length > 0) {
        const properties = (m.properties ?? {}) as Record<string, unknown>;
        recordInCounters(profile.counters, compiled.specs, { name: event.name, timestamp, properties }, now, changed.counters);
      }
      if (compiled.usesContext && (m.context.page !== undefined || m.context.campaign !== undefined || m.context.location !== undefined)) {
        if (!profile.lastContext || (profile.computed.lastSeen ?? 0) <= timestamp) {
          profile.lastContext = requestContextOf(m.context);
          changed.context = true;
        }
      }
    }
    profile.updatedAt = Math.max(profile.updatedAt, event.receivedAt);
    state.events.push(event);
    profileIds.push(profileId);
  }
  // Membership follows from the updated counters and traits, in the same transaction.
  // A change dates from the latest event that caused it (never later than now).
  const latest = new Map<string, number>();
  for (const e of state.events) latest.set(e.profileId, Math.max(latest.get(e.profileId) ?? 0, e.timestamp));
  const audienceWrites = applyAudiences(
    state.touchedProfiles(),
    compiled,
    now,
    (p) => Math.min(now, latest.get(p.id) ?? now),
    (p) => state.changesOf(p.id),
  );
  state.events.push(...audienceWrites.events);
  await state.flush();
  await persistAudienceWrites(tx, audienceWrites, { events: false });
  // A message may have landed on a profile merged away later in the same group.
  return { profileIds: profileIds.map((id) => (id === null ? null : state.survivorOf(id))), merges: state.merges, dropped, recommendQueued: !state.recommend.empty };
}

export function eventName(m: Message): string {
  switch (m.type) {
    case 'track':
      return m.event;
    case 'page':
      return 'Page Viewed';
    case 'screen':
      return 'Screen Viewed';
    default:
      return m.type;
  }
}

function aliasPreviousKeys(previousId: string): IdentityKey[] {
  return [
    { type: 'userId', value: previousId },
    { type: 'anonymousId', value: previousId },
  ];
}

class GroupState {
  readonly events: StoredEvent[] = [];
  readonly statDeltas: StatDelta[] = [];
  readonly recommend = new RecommendDeltas();
  readonly merges: Array<{ from: string; into: string }> = [];
  private readonly identities = new Map<string, string>();
  private readonly profiles = new Map<string, ProfileRecord>();
  private readonly dirtyProfiles = new Set<string>();
  private readonly newLinks = new Map<string, { key: IdentityKey; profileId: string; at: number }>();
  private readonly redirects = new Map<string, string>();
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly dirtyAccounts = new Set<string>();
  /** What this group changed per profile: audiences whose inputs did not change are not evaluated. */
  private readonly changes = new Map<string, ProfileChanges>();

  constructor(
    private readonly tx: StoreTx,
    private readonly settings: GroupSettings,
    private readonly compiled: CompiledAudiences,
  ) {}

  changesOf(id: string): ProfileChanges {
    let c = this.changes.get(id);
    if (!c) this.changes.set(id, (c = emptyChanges()));
    return c;
  }

  touchedProfiles(): ProfileRecord[] {
    return [...this.dirtyProfiles].map((id) => this.profiles.get(id) as ProfileRecord);
  }

  async prefetch(keys: IdentityKey[]): Promise<void> {
    if (keys.length === 0) return;
    const found = await this.tx.lookupIdentities(dedupeKeys(keys));
    for (const [k, id] of found) this.identities.set(k, id);
    const ids = [...new Set(found.values())].sort();
    if (ids.length > 0) {
      const loaded = await this.tx.getProfiles(ids);
      for (const [id, p] of loaded) this.profiles.set(id, p);
    }
  }

  /** The consent held by the profile owning the strongest of these identifiers. */
  storedConsent(keys: IdentityKey[]): ProfileRecord['consent'] {
    for (const key of keys) {
      const owner = this.owner(key);
      if (owner !== undefined) return this.profiles.get(owner)?.consent;
    }
    return undefined;
  }

  /** Records a consent change on the existing profile owning these identifiers (none is created for it). */
  async recordConsentOn(keys: IdentityKey[], change: ConsentChange, config: ConsentConfig): Promise<void> {
    for (const key of keys) {
      const owner = this.owner(key);
      if (owner === undefined) continue;
      const p = await this.ensureLoaded(owner);
      const next = recordConsent(p.consent, change, config);
      if (next !== p.consent) {
        p.consent = next;
        this.dirtyProfiles.add(p.id);
        this.changesOf(p.id).traits = true;
      }
      return;
    }
  }

  survivorOf(id: string): string {
    let current = id;
    for (let hops = 0; hops < 100; hops++) {
      const next = this.redirects.get(current);
      if (next === undefined) return current;
      current = next;
    }
    return current;
  }

  profile(id: string): ProfileRecord {
    const p = this.profiles.get(this.survivorOf(id));
    if (!p) throw new Error(`profile ${id} was not loaded`);
    this.dirtyProfiles.add(p.id);
    return p;
  }

  private owner(key: IdentityKey): string | undefined {
    const id = this.identities.get(identityKeyString(key));
    return id === undefined ? undefined : this.survivorOf(id);
  }

  private async ensureLoaded(id: string): Promise<ProfileRecord> {
    const have = this.profiles.get(id);
    if (have) return have;
    const loaded = await this.tx.getProfiles([id]);
    const p = loaded.get(id);
    if (!p) throw new Error(`identity points to missing profile ${id}`);
    this.profiles.set(id, p);
    return p;
  }

  private create(at: number): ProfileRecord {
    const p = newProfile(this.settings.newId(), at);
    this.profiles.set(p.id, p);
    this.dirtyProfiles.add(p.id);
    this.changesOf(p.id).full = true;
    return p;
  }

  private withinLimit(p: ProfileRecord, type: string, adding: number): boolean {
    const limit = this.settings.identity.limits[type];
    return limit === undefined || (p.identityCounts[type] ?? 0) + adding <= limit;
  }

  private canMerge(a: ProfileRecord, b: ProfileRecord): boolean {
    for (const [type, limit] of Object.entries(this.settings.identity.limits)) {
      if ((a.identityCounts[type] ?? 0) + (b.identityCounts[type] ?? 0) > limit) return false;
    }
    return true;
  }

  private link(p: ProfileRecord, key: IdentityKey): void {
    const k = identityKeyString(key);
    this.identities.set(k, p.id);
    this.newLinks.set(k, { key, profileId: p.id, at: this.settings.now() });
    p.identityCounts[key.type] = (p.identityCounts[key.type] ?? 0) + 1;
    this.dirtyProfiles.add(p.id);
  }

  /**
   * Resolves a call's identifiers (strongest first) to one profile, linking new identifiers
   * and merging profiles the call proves are one person, within identity limits. The call
   * lands on the profile that holds its strongest identifier.
   */
  async resolve(keys: IdentityKey[]): Promise<string> {
    const now = this.settings.now();
    let target: ProfileRecord | null = null;
    const pending: IdentityKey[] = [];
    for (const key of keys) {
      const ownerId = this.owner(key);
      if (ownerId === undefined) {
        if (target === null) pending.push(key);
        else if (this.withinLimit(target, key.type, 1)) this.link(target, key);
        continue;
      }
      const owner = await this.ensureLoaded(ownerId);
      if (target === null) {
        if (pending.length > 0 && !pending.every((k) => this.withinLimit(owner, k.type, countOf(pending, k.type)))) {
          // The stronger new identifiers belong to someone else than this owner: a new person.
          target = this.create(now);
          for (const k of pending) this.link(target, k);
          pending.length = 0;
          if (this.canMerge(target, owner)) target = await this.merge(target, owner);
        } else {
          target = owner;
          for (const k of pending) this.link(target, k);
          pending.length = 0;
        }
        continue;
      }
      if (owner.id !== target.id && this.canMerge(target, owner)) target = await this.merge(target, owner);
    }
    if (target === null) {
      target = this.create(now);
      for (const k of pending) this.link(target, k);
    }
    return target.id;
  }

  /** alias: previousId (an earlier userId or anonymousId) and userId are one person, whatever the limits say. */
  async resolveAlias(m: Extract<Message, { type: 'alias' }>): Promise<string> {
    const now = this.settings.now();
    const userKey = { type: 'userId', value: m.userId };
    const previousOwner =
      this.owner({ type: 'userId', value: m.previousId }) ?? this.owner({ type: 'anonymousId', value: m.previousId });
    const userOwner = this.owner(userKey);
    if (previousOwner !== undefined && userOwner !== undefined) {
      if (previousOwner === userOwner) return userOwner;
      const a = await this.ensureLoaded(previousOwner);
      const b = await this.ensureLoaded(userOwner);
      return (await this.merge(a, b)).id;
    }
    if (previousOwner !== undefined) {
      const p = await this.ensureLoaded(previousOwner);
      this.link(p, userKey);
      return p.id;
    }
    if (userOwner !== undefined) {
      const p = await this.ensureLoaded(userOwner);
      this.link(p, { type: 'anonymousId', value: m.previousId });
      return p.id;
    }
    const p = this.create(now);
    this.link(p, userKey);
    this.link(p, { type: 'anonymousId', value: m.previousId });
    return p.id;
  }

  /**
   * Survivor rule: the profile created first survives (ties: the smaller id). The other's
   * identifiers, events, traits (per-trait strategy), aggregates and accounts move to it, and
   * its id keeps resolving to the survivor.
   */
  private async merge(a: ProfileRecord, b: ProfileRecord): Promise<ProfileRecord> {
    const [survivor, loser] =
      a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id) ? [a, b] : [b, a];
    await this.tx.moveIdentities(loser.id, survivor.id);
    await this.tx.moveEvents(loser.id, survivor.id);
    for (const [k, id] of this.identities) if (id === loser.id) this.identities.set(k, survivor.id);
    for (const link of this.newLinks.values()) if (link.profileId === loser.id) link.profileId = survivor.id;
    for (const e of this.events) if (e.profileId === loser.id) e.profileId = survivor.id;
    mergeTraits(survivor, loser, this.settings.identity.traitStrategies);
    mergeComputed(survivor.computed, loser.computed);
    mergeShopping(survivor.computed, loser.computed);
    mergeDecisionState(survivor, loser);
    mergeCounters(survivor.counters, loser.counters, this.compiled.specs, this.settings.now());
    loser.counters = {};
    for (const [type, n] of Object.entries(loser.identityCounts)) {
      survivor.identityCounts[type] = (survivor.identityCounts[type] ?? 0) + n;
    }
    for (const acc of loser.accountIds) if (!survivor.accountIds.includes(acc)) survivor.accountIds.push(acc);
    survivor.createdAt = Math.min(survivor.createdAt, loser.createdAt);
    survivor.updatedAt = Math.max(survivor.updatedAt, loser.updatedAt, this.settings.now());
    loser.mergedInto = survivor.id;
    loser.identityCounts = {};
    loser.updatedAt = this.settings.now();
    this.redirects.set(loser.id, survivor.id);
    this.dirtyProfiles.add(survivor.id);
    this.dirtyProfiles.add(loser.id);
    this.merges.push({ from: loser.id, into: survivor.id });
    this.changesOf(survivor.id).full = true;
    return survivor;
  }

  async applyTraits(profile: ProfileRecord, m: Message, at: number): Promise<void> {
    const strategies = this.settings.identity.traitStrategies;
    if (m.type === 'identify') {
      if (m.traits) writeTraits(profile, normalizeTraitIds(m.traits), at, 'set', strategies);
      if (m.setOnce) writeTraits(profile, m.setOnce, at, 'setOnce', strategies);
      if (m.increment) incrementTraits(profile, m.increment, at);
      if (m.unset) unsetTraits(profile, m.unset, at);
    } else if (m.type === 'track' && (m.event === 'Account Created' || m.event === 'Account Updated')) {
      const p = (m.properties ?? {}) as Record<string, unknown>;
      const traits: Record<string, unknown> = { ...((p.traits as Record<string, unknown> | undefined) ?? {}) };
      for (const k of ['email', 'phone', 'first_name', 'last_name'] as const) if (p[k] !== undefined) traits[k] = p[k];
      if (m.event === 'Account Created') writeTraits(profile, { account_created_at: m.timestamp }, at, 'setOnce', strategies);
      writeTraits(profile, normalizeTraitIds(traits), at, 'set', strategies);
    } else if (m.type === 'group') {
      const account = await this.account(m.groupId, at);
      if (m.traits) {
        for (const [k, v] of Object.entries(m.traits)) {
          Object.defineProperty(account.traits, k, { value: v, enumerable: true, writable: true, configurable: true });
        }
      }
      account.updatedAt = Math.max(account.updatedAt, at);
      if (!profile.accountIds.includes(account.id)) profile.accountIds.push(account.id);
    }
  }

  private async account(id: string, at: number): Promise<AccountRecord> {
    let acc = this.accounts.get(id);
    if (!acc) {
      acc = (await this.tx.getAccounts([id])).get(id) ?? { id, traits: {}, createdAt: at, updatedAt: at };
      this.accounts.set(id, acc);
    }
    this.dirtyAccounts.add(id);
    return acc;
  }

  async flush(): Promise<void> {
    const profiles = [...this.dirtyProfiles].map((id) => this.profiles.get(id) as ProfileRecord);
    // Profiles first: on PostgreSQL identities and events reference them.
    await this.tx.putProfiles(profiles);
    if (this.newLinks.size > 0) {
      await this.tx.linkIdentities(
        [...this.newLinks.values()].map((l) => ({ ...l.key, profileId: l.profileId, firstSeen: l.at })),
      );
    }
    if (this.dirtyAccounts.size > 0) {
      await this.tx.putAccounts([...this.dirtyAccounts].map((id) => this.accounts.get(id) as AccountRecord));
    }
    if (this.events.length > 0) await this.tx.appendEvents(this.events);
    if (this.statDeltas.length > 0) await this.tx.addExperimentStats(this.statDeltas);
    if (!this.recommend.empty) await this.tx.queueRecommendCounts(encodeRecommendWrites(this.recommend.rows()));
  }
}

function countOf(keys: IdentityKey[], type: string): number {
  let n = 0;
  for (const k of keys) if (k.type === type) n++;
  return n;
}

function dedupeKeys(keys: IdentityKey[]): IdentityKey[] {
  const seen = new Map<string, IdentityKey>();
  for (const k of keys) seen.set(identityKeyString(k), k);
  return [...seen.values()];
}

/** Identity traits are kept normalised, as they are matched. */
function normalizeTraitIds(traits: Record<string, unknown>): Record<string, unknown> {
  const out = { ...traits };
  if (out.email !== undefined) out.email = normalizeEmail(out.email) ?? out.email;
  if (out.phone !== undefined) out.phone = normalizePhone(out.phone) ?? out.phone;
  return out;
}

/** The parts of a call's context that context conditions read. */
export function requestContextOf(context: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['page', 'campaign', 'location', 'timezone'] as const) if (context[key] !== undefined) out[key] = context[key];
  return out;
}
