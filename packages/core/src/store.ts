import type { JsonValue } from './conditions/types.ts';
import type { StatDelta } from './decisions/exposures.ts';
import type { OutboxStore, OutboxWrite } from './outbox.ts';
import type { AccountRecord, ProfileData, ProfileRecord } from './profiles/types.ts';
import type { CatalogItem } from './protocol/catalog.ts';
import type { Message } from './protocol/segment.ts';
import type { PairKind, RecommendWrites } from './recommend/deltas.ts';

/** An identifier of a person: `{ type: 'email', value: 'ada@example.com' }`. */
export interface IdentityKey {
  type: string;
  value: string;
}

export interface IdentityRecord extends IdentityKey {
  profileId: string;
  firstSeen: number;
}

/** An identifier to link to a profile (re-pointed if it was linked elsewhere). */
export type IdentityLink = IdentityRecord;

export type MessageType = Message['type'];

/** An event as stored: the validated message plus where it belongs and when. */
export interface StoredEvent {
  messageId: string;
  profileId: string;
  type: MessageType;
  /** Event name for track, page/screen name or 'Page Viewed'/'Screen Viewed', else the call type. */
  name: string;
  /** Event time in epoch milliseconds. */
  timestamp: number;
  receivedAt: number;
  message: Message;
}

export interface EventQuery {
  profileId: string;
  name?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string | undefined;
}

export interface EventPage {
  /** Newest first. */
  events: StoredEvent[];
  nextCursor: string | null;
}

/**
 * `write`: sends events (public, per source); `decide`: asks for decisions (public);
 * `secret`: the admin API, with a role.
 */
export type ApiKeyKind = 'write' | 'decide' | 'secret';

/** What a secret key may do: `analyst` reads, `marketer` also changes audiences, experiences and activations, `admin` everything. */
export type ApiKeyRole = 'analyst' | 'marketer' | 'admin';

export interface ApiKeyScope {
  /** Secret keys only; keys made before roles existed are admins. */
  role?: ApiKeyRole;
  /** Browser origins allowed to use a public key (`https://shop.example.com`); absent: any. */
  origins?: string[];
  /** The source a write key belongs to (`web`, `ios-app`, `pos`). */
  source?: string;
  /** Most requests per rate-limit window for this key (default: the server's limit). */
  rateLimit?: number;
}

export interface ApiKeyRecord {
  id: string;
  kind: ApiKeyKind;
  name: string;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  hash: string;
  /** The first characters of the key, to recognise it in lists. */
  prefix: string;
  createdAt: number;
  /** When the key stops working: now for a revocation, later for a rotated key's overlap. */
  revokedAt: number | null;
  scope?: ApiKeyScope;
}

/**
 * A configuration document: a segment group, an audience, an activation, an experience…
 * Versioned for optimistic concurrency, so two admins (or two nodes) never overwrite each
 * other's change unknowingly.
 */
export interface ConfigDocument<T = unknown> {
  kind: string;
  id: string;
  body: T;
  /** 1 at creation, +1 at each update. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface ConfigDocuments {
  get(kind: string, id: string): Promise<ConfigDocument | null>;
  /** Every document of a kind, by id. */
  list(kind: string): Promise<ConfigDocument[]>;
  /**
   * Creates the document when `expectedVersion` is 0, or replaces version `expectedVersion`.
   * Returns the stored document, or null when the current version is not the expected one.
   */
  put(kind: string, id: string, body: unknown, expectedVersion: number, at: number): Promise<ConfigDocument | null>;
  /** Deletes the document; true if it existed. */
  delete(kind: string, id: string): Promise<boolean>;
}

/** An audience entry (`since` set) or exit (`since` null). */
export interface MembershipChange {
  audienceId: string;
  profileId: string;
  since: number | null;
}

/** When a profile's audiences must be checked again with no new event (null: never). */
export interface ScheduledCheck {
  profileId: string;
  at: number | null;
}

/** Members of an audience. A profile's own memberships are in its record (`audiences`). */
export interface MembershipReads {
  /** Members by profile id, after `after` (exclusive). */
  members(audienceId: string, options: { after?: string | undefined; limit: number }): Promise<Array<{ profileId: string; since: number }>>;
  count(audienceId: string): Promise<number>;
}

/**
 * Operations inside one store transaction. Every write in a transaction commits together
 * or not at all. A store may run the transaction function more than once (PostgreSQL retries
 * on conflicts), so the function must not have effects outside the transaction.
 */
export interface StoreTx {
  /**
   * Claims keys in a scope (`message` for messageIds, `order` for order ids); returns the keys
   * that were not claimed before. This is how a repeated messageId counts once.
   */
  claim(scope: string, keys: string[]): Promise<Set<string>>;
  /** Maps `type:value` to the profile id holding it, for the keys that are linked. */
  lookupIdentities(keys: IdentityKey[]): Promise<Map<string, string>>;
  /** Links identifiers to profiles, in one round trip whatever their number. */
  linkIdentities(links: IdentityLink[]): Promise<void>;
  /** Re-points every identifier of `fromProfileId` to `toProfileId` (a merge). */
  moveIdentities(fromProfileId: string, toProfileId: string): Promise<void>;
  /** Reads profiles for update: no other transaction changes them until this one ends. */
  getProfiles(ids: string[]): Promise<Map<string, ProfileRecord>>;
  putProfiles(profiles: ProfileRecord[]): Promise<void>;
  appendEvents(events: StoredEvent[]): Promise<void>;
  /** Re-assigns the stored events of `fromProfileId` to `toProfileId` (a merge). */
  moveEvents(fromProfileId: string, toProfileId: string): Promise<void>;
  getAccounts(ids: string[]): Promise<Map<string, AccountRecord>>;
  putAccounts(accounts: AccountRecord[]): Promise<void>;
  applyMemberships(changes: MembershipChange[]): Promise<void>;
  /** Sets (or clears, with null) each profile's next audience check. */
  scheduleChecks(checks: ScheduledCheck[]): Promise<void>;
  /** Writes outbox entries; they become visible to consumers when the transaction commits. */
  appendOutbox(entries: OutboxWrite[]): Promise<void>;
  /** Adds to experiments' sufficient statistics (rows keyed by experiment, variant and metric). */
  addExperimentStats(deltas: StatDelta[]): Promise<void>;
  /** Adds to recommendation counters: item totals and attributes, per-day counts, co-occurrence pairs. */
  addRecommendCounts(writes: RecommendWrites): Promise<void>;
  /**
   * Queues one transaction's recommendation counters (encoded by core) in a single row, in
   * commit order; `takeRecommendQueue` hands them to the fold, which adds many at once.
   */
  queueRecommendCounts(encoded: string): Promise<void>;
  /**
   * Removes and returns up to `limit` queued rows, oldest first. On a shared database,
   * concurrent callers get disjoint rows (rows another transaction took are skipped).
   */
  takeRecommendQueue(limit: number): Promise<string[]>;
  /** Deletes per-day item counts of days before `day`; returns how many rows went. */
  pruneRecommendDays(beforeDay: number): Promise<number>;
  /**
   * Removes a profile and every profile merged into it: their events, identifiers, audience
   * memberships and scheduled checks. Claimed messageIds stay, so a replay is a no-op.
   */
  eraseProfile(profileId: string): Promise<ErasedProfile>;
  /** Of these suppression keys (privacy/gate.ts), those suppressed at `now`. */
  suppressed(keys: string[], now: number): Promise<Set<string>>;
  /** CounterSnapshot.rows for some profiles, read in this transaction (after their rows are locked). */
  counterRows(specs: CounterScanSpec[], profileIds: string[]): Promise<CounterRow[]>;
  /**
   * Stores the audience state (counters, audiences, nextCheckAt) of profiles read from a
   * CounterSnapshot, each only if its row still holds the version the snapshot gave (so the
   * rest of its document is as read and stays as stored); those written are locked until the
   * transaction ends. Returns the ids written; the others changed since, merged away or are gone.
   */
  putAudienceStates(updates: AudienceStateUpdate[]): Promise<Set<string>>;
  /** Deletes these events (retention); returns how many existed. */
  deleteEvents(keys: Array<{ profileId: string; messageId: string }>): Promise<number>;
  /** Suppresses keys until the given time (a later time wins over an earlier one). */
  suppress(entries: Array<{ key: string; until: number }>): Promise<void>;
}

/** A product as recommendations see it: attributes (catalog first, else the latest event's) and totals. */
export interface RecItem {
  id: string;
  category: string | null;
  brand: string | null;
  price: number | null;
  name: string | null;
  /** Null when no catalog said. */
  inStock: boolean | null;
  /** Other catalog attributes, compared by more-like-this. */
  attributes: Record<string, unknown>;
  /** True once the catalog described the item: event properties no longer overwrite its attributes. */
  fromCatalog: boolean;
  /** Deleted from the catalog: never recommended. */
  deleted: boolean;
  views: number;
  carts: number;
  purchases: number;
}

/** A product's attributes from the catalog. */
export interface CatalogProduct {
  id: string;
  category?: string | undefined;
  brand?: string | undefined;
  price?: number | undefined;
  name?: string | undefined;
  inStock?: boolean | undefined;
  attributes: Record<string, unknown>;
  deleted?: boolean | undefined;
}

/** `activity` weighs views 1, carts 3, purchases 5. */
export type RecMetric = 'views' | 'carts' | 'purchases' | 'activity';

export interface TopItemsQuery {
  metric: RecMetric;
  /** Count days from this UTC day number on (inclusive); without it, all-time totals. */
  fromDay?: number | undefined;
  /** Up to this day (inclusive). */
  toDay?: number | undefined;
  category?: string | undefined;
  brand?: string | undefined;
  limit: number;
}

/** Reads and catalog writes of the recommendation data; counters are written by ingestion (`StoreTx`). */
export interface RecommendStore {
  /** Upserts catalog attributes; `deleted` marks an item never to recommend. Counters are kept. */
  putProducts(products: CatalogProduct[]): Promise<void>;
  items(ids: string[]): Promise<Map<string, RecItem>>;
  /**
   * Items by count, highest first (ties: smaller id); deleted items excluded. Over a window of
   * days only items counted in it; all-time, every item (catalog items never seen count 0).
   */
  top(query: TopItemsQuery): Promise<Array<{ id: string; n: number }>>;
  /** Counts of the given items over days [fromDay, toDay]; items with none are absent. */
  counts(ids: string[], query: { metric: RecMetric; fromDay: number; toDay?: number | undefined }): Promise<Map<string, number>>;
  /** The items most often seen (`view`) or bought (`buy`) with `id`, highest first (ties: smaller id). */
  related(kind: PairKind, id: string, limit: number): Promise<Array<{ id: string; n: number }>>;
}

/** What `StoreTx.eraseProfile` removed. */
export interface ErasedProfile {
  /** The profile and those merged into it. */
  profileIds: string[];
  events: number;
  identities: IdentityKey[];
  /** Audience ids the profile was a member of. */
  audiences: string[];
  /** Experiment statistics rows the profile's contributions were withdrawn from (set by the engine). */
  statistics?: number;
}

/** A catalog item as stored: tombstones are kept, so an older update never revives an item. */
export interface StoredCatalogItem extends CatalogItem {
  streamId: string;
  deleted: boolean;
  /** When Attune stored this version (epoch ms). */
  receivedAt: number;
}

export interface CatalogApplyResult {
  upserted: number;
  deleted: number;
  /** Items older than what is stored (or repeated tombstones). */
  ignored: number;
}

export interface CatalogItemKey {
  type: string;
  id: string;
  locale?: string | undefined;
}

export interface CatalogStore {
  /** Upserts and deletes items of a stream in one transaction, in order. */
  apply(streamId: string, items: CatalogItem[], at: number): Promise<CatalogApplyResult>;
  get(streamId: string, key: CatalogItemKey): Promise<StoredCatalogItem | null>;
  /** Live items (tombstones too when asked) in (type, id, locale) order, after `after`. */
  list(
    streamId: string,
    options: { type?: string | undefined; after?: CatalogItemKey | undefined; limit: number; includeDeleted?: boolean | undefined },
  ): Promise<StoredCatalogItem[]>;
  streams(): Promise<Array<{ streamId: string; items: number; deleted: number; lastReceivedAt: number }>>;
}

/**
 * A catalog row as both stores select it (`stream_id`, `type`, `id`, `locale` ('' for none),
 * `updated_at`, `deleted`, `fields`, `received_at`); `parse` turns the fields column into an array
 * (JSON text on SQLite, already parsed jsonb on PostgreSQL).
 */
export function catalogItemFromRow(row: Record<string, unknown>, parse: (column: unknown) => unknown): StoredCatalogItem {
  const locale = row.locale as string;
  return {
    streamId: row.stream_id as string,
    type: row.type as string,
    id: row.id as string,
    ...(locale !== '' ? { locale } : {}),
    updatedAt: new Date(row.updated_at as number).toISOString(),
    deleted: row.deleted === true || row.deleted === 1,
    fields: parse(row.fields) as StoredCatalogItem['fields'],
    receivedAt: row.received_at as number,
  };
}

/**
 * Whether an incoming catalog version replaces the stored one. A later source time wins; at the
 * same time a resend replaces a live item (idempotent), but nothing revives a tombstone.
 */
export function catalogSupersedes(incomingUpdatedAt: number, stored: { updatedAt: number; deleted: boolean } | null): boolean {
  if (stored === null) return true;
  if (incomingUpdatedAt !== stored.updatedAt) return incomingUpdatedAt > stored.updatedAt;
  return !stored.deleted;
}

/** What `Store.decisionProfile` returns. */
export interface DecisionProfile {
  id: string;
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  audiences: Record<string, number>;
  experiments: Record<string, { variant: string; at: number }>;
  offerImpressions: Record<string, { total: number; day: string; today: number }>;
  /** Purposes the visitor granted, null when they never expressed consent. */
  consent: Record<string, boolean> | null;
}

/**
 * A decision-profile row as both stores select it (`id`, `merged_into`, `traits`, `computed`,
 * `audiences`, `experiments`, `offers`, `consent` = data.consent.purposes); `parse` turns a column into an object (JSON text on
 * SQLite, already parsed jsonb on PostgreSQL). Missing fields are empty objects.
 */
export function decisionProfileFromRow(row: Record<string, unknown>, parse: (column: unknown) => unknown): DecisionProfile {
  const obj = <T>(v: unknown): T => {
    const parsed = v === null || v === undefined ? null : parse(v);
    return (parsed !== null && typeof parsed === 'object' ? parsed : {}) as T;
  };
  return {
    id: row.id as string,
    traits: obj(row.traits),
    computed: obj(row.computed),
    audiences: obj(row.audiences),
    experiments: obj(row.experiments),
    offerImpressions: obj(row.offers),
    consent: row.consent === null || row.consent === undefined ? null : obj(row.consent),
  };
}

/** The decision profile of a stored profile record, as `decisionProfileFromRow` reads it back. */
export function decisionProfileOfRecord(p: ProfileRecord): DecisionProfile {
  return {
    id: p.id,
    traits: p.traits,
    computed: p.computed as unknown as Record<string, unknown>,
    audiences: p.audiences,
    experiments: p.experiments ?? {},
    offerImpressions: p.offerImpressions ?? {},
    consent: p.consent?.purposes ?? null,
  };
}

/** One entry of the audit log of admin changes, with the columns it is looked up by. */
export interface AuditLogRecord {
  /** Orders entries: the time zero-padded, then something unique (`000001764748800000-a1b2c3`). */
  id: string;
  /** Epoch ms. */
  at: number;
  /** The resource kind changed (`audience`, `api-key`…), or `request`. */
  kind: string;
  resourceId: string | null;
  /** The API key that made the change. */
  keyId: string | null;
  /** The entry as the API shows it (who, what, before and after). */
  body: unknown;
}

export interface AuditLogQuery {
  kind?: string | undefined;
  resourceId?: string | undefined;
  keyId?: string | undefined;
  /** Entries at or after this time (epoch ms). */
  since?: number | undefined;
  /** Entries older than this id: the previous page's last id. */
  before?: string | undefined;
  limit: number;
}

/** The audit log: entries are appended, never changed; read newest first, a page at a time. */
export interface AuditLogStore {
  append(records: AuditLogRecord[]): Promise<void>;
  list(query: AuditLogQuery): Promise<AuditLogRecord[]>;
}

/**
 * A filter on a top-level event property (a plain identifier) that a store turns into SQL.
 * A store may let through events the filter rejects (the core checks every filter again),
 * never drop one it accepts.
 */
export type PushedFilter =
  | { property: string; op: 'eq'; values: Array<string | number> }
  | { property: string; op: 'exists' }
  | { property: string; op: 'gt' | 'gte' | 'lt' | 'lte'; value: number };

/** One audience counter question asked of the stored events (audiences/recompute.ts builds them). */
export interface CounterScanSpec {
  /** Event name. */
  event: string;
  /** Only events after this time (exclusive), the start of the counter's longest window; null: all. */
  after: number | null;
  /** Filters the store applies in SQL. */
  where: PushedFilter[];
  /** Top-level property names whose values each returned event must carry. */
  properties: string[];
}

/** A stored track, page or screen event some counter spec may count. */
export interface CounterRow {
  profileId: string;
  name: string;
  ts: number;
  /** At least the properties the specs asked for (missing ones absent), as stored. */
  properties: Record<string, JsonValue>;
}

/**
 * A live profile as of a snapshot: its key columns and stored document (profileFromData makes
 * the record), with an opaque token that changes whenever its row is written.
 */
export interface VersionedProfile {
  id: string;
  createdAt: number;
  updatedAt: number;
  data: Partial<ProfileData>;
  version: string;
}

/** One profile's audience state for StoreTx.putAudienceStates. */
export interface AudienceStateUpdate {
  /** The record as read, with its new counters, audiences and next check. */
  profile: ProfileRecord;
  /** As the snapshot gave it: a VersionedProfile's version or the snapshot's unreadVersion. */
  version: string;
  /**
   * The row was not read (version is an unreadVersion): only the audience state in `profile` is
   * the row's. When written, the store fills `profile` in with the whole record as stored.
   */
  unread?: boolean;
}

/**
 * A consistent read of the counter events and the live profiles at one moment, for a
 * set-based audience recompute. Both iterate in profile id order.
 */
export interface CounterSnapshot {
  /**
   * Track, page and screen events matching some spec (event name, time after `after`, pushed
   * filters), ordered by profile id, then time, then message id; in batches.
   */
  rows(): AsyncIterable<CounterRow[]>;
  /**
   * Profiles not merged away, by id; in batches. With `withState`, only those whose document may
   * hold counters, memberships or a scheduled check (a store may return more, never fewer).
   */
  profiles(options: { withState: boolean }): AsyncIterable<VersionedProfile[]>;
  /** These profiles (ids in ascending order), those not merged away. */
  profilesById(ids: string[]): Promise<VersionedProfile[]>;
  /**
   * A version putAudienceStates accepts for any profile whose row is still the one this snapshot
   * sees, when the store can tell without the row having been read (PostgreSQL: the row's xmin is
   * visible in the snapshot). A profile without state needs no read then: its audience state
   * comes from its counter events alone. Undefined where the store cannot tell.
   */
  readonly unreadVersion?: string;
  close(): Promise<void>;
}

export interface TransactionOptions {
  /**
   * `false`: the commit need not be on disk before it returns (SQLite: no fsync of the WAL at
   * this commit; PostgreSQL: `synchronous_commit = off`). It survives the process dying, not a
   * power cut or an OS crash before the next durable commit. For writes nobody was promised:
   * decide's exposures and offer impressions. Default `true`.
   */
  durable?: boolean;
}

/** The storage port. Both stores pass the conformance suite in `@attune/test-utils`. */
export interface Store {
  readonly kind: string;
  /** Creates or upgrades the schema. Safe to call on every start and from several nodes. */
  migrate(): Promise<void>;
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  getProfile(id: string): Promise<ProfileRecord | null>;
  findProfileId(key: IdentityKey): Promise<string | null>;
  /**
   * The parts of a live profile a decision reads (no counters, no trait metadata), found by an
   * identifier, following merges: one cheap read on the decide path.
   */
  decisionProfile(key: IdentityKey): Promise<DecisionProfile | null>;
  listIdentities(profileId: string): Promise<IdentityRecord[]>;
  queryEvents(query: EventQuery): Promise<EventPage>;
  getAccount(id: string): Promise<AccountRecord | null>;
  countProfiles(): Promise<number>;
  /**
   * The events of several profiles, oldest first per profile, limited to some event names
   * (null: all): one read per chunk of profiles when audiences are recomputed or previewed.
   */
  historyOf(profileIds: string[], names: string[] | null): Promise<Map<string, StoredEvent[]>>;
  /** Opens a consistent read of the events counter specs count and of the live profiles (see CounterSnapshot). */
  counterSnapshot(specs: CounterScanSpec[]): Promise<CounterSnapshot>;
  /** Ids of profiles not merged away, in id order, after `after`: for recomputing audiences. */
  profileIds(after: string | null, limit: number): Promise<string[]>;
  /** Profiles whose audience check is due at `now` or before, earliest first. */
  dueChecks(now: number, limit: number): Promise<Array<{ profileId: string; at: number }>>;
  memberships: MembershipReads;
  /** Events of this name older than `before` (event time), oldest first: what a retention rule removes. */
  expiredEvents(name: string, before: number, limit: number): Promise<Array<{ profileId: string; messageId: string; timestamp: number }>>;
  /** Live profiles known by anonymous ids only, last updated before `before`, in id order. */
  inactiveAnonymousProfiles(before: number, limit: number): Promise<string[]>;
  outbox: OutboxStore;
  keys: {
    put(key: ApiKeyRecord): Promise<void>;
    list(): Promise<ApiKeyRecord[]>;
    findByHash(hash: string): Promise<ApiKeyRecord | null>;
    /** Sets when the key stops working; an earlier time replaces a later one (a revocation ends a rotation overlap). */
    revoke(id: string, at: number): Promise<boolean>;
  };
  docs: ConfigDocuments;
  audit: AuditLogStore;
  recommend: RecommendStore;
  /** An experiment's sufficient statistics, one row per variant and metric. */
  experimentStats(experimentId: string): Promise<StatDelta[]>;
  /** Content, products and other items exported by CMS and commerce adapters. */
  catalog: CatalogStore;
  close(): Promise<void>;
}

export function identityKeyString(key: IdentityKey): string {
  return `${key.type}:${key.value}`;
}

/** Cursor for event pages: newest first, by (timestamp, messageId). */
export function encodeEventCursor(timestamp: number, messageId: string): string {
  return `${timestamp}.${messageId}`;
}

export function decodeEventCursor(cursor: string): { timestamp: number; messageId: string } | null {
  const dot = cursor.indexOf('.');
  if (dot <= 0) return null;
  const timestamp = Number(cursor.slice(0, dot));
  const messageId = cursor.slice(dot + 1);
  if (!Number.isFinite(timestamp) || messageId === '') return null;
  return { timestamp, messageId };
}
