import { membershipFact } from './audiences/apply.ts';
import { type AudienceService, createAudienceService } from './audiences/service.ts';
import { type ConnectorCaller, type DecideResult, type DecisionSnapshot, decide, EMPTY_SNAPSHOT } from './decisions/decide.ts';
import { EXPOSURE_EVENT, OFFER_VIEWED_EVENT } from './decisions/exposures.ts';
import { compileManifest } from './decisions/manifest.ts';
import { withDecisionProfileCache } from './decisions/profile-cache.ts';
import { createDecisionService, type DecisionService } from './decisions/service.ts';
import { AttuneError, type Issue } from './errors.ts';
import { type CatalogService, createCatalogService } from './exports/catalog.ts';
import {
  DEFAULT_IDENTITY_CONFIG,
  type IdentityConfig,
  identifierTag,
  identityPriority,
  isBlindIndexed,
  normalizeIdentifier,
  profilesByIdentifier,
} from './identity/identifiers.ts';
import { Committer, type IngestResult } from './ingest/committer.ts';
import { type Clock, createIdGenerator, type Logger, silentLogger } from './ports.ts';
import { type ConsentConfigInput, consentOfContext, effectiveGrants, PERSONALIZATION, parseConsentConfig } from './privacy/consent.ts';
import { statWithdrawals } from './privacy/erasure.ts';
import { blindIndexFor, type FieldCipher, type FieldPoliciesInput, parseFieldPolicies } from './privacy/fields.ts';
import { type IngestPrivacy, suppressionKey } from './privacy/gate.ts';
import { createRetention, parseRetentionPolicy, type Retention, type RetentionPolicyInput } from './privacy/retention.ts';
import { createPrivacyService, type ErasureNotice, type PrivacyService } from './privacy/service.ts';
import { type ComputedSummary, DEFAULT_SESSION_TIMEOUT_MS, summarizeComputed } from './profiles/computed.ts';
import type { ProfileRecord } from './profiles/types.ts';
import { decideRequestSchema } from './protocol/decisions.ts';
import { inspectJson } from './protocol/json-safety.ts';
import { parseBatchOrThrow, parseMessageOrThrow, parseOrThrow, zodIssues } from './protocol/parse.ts';
import { rankRequestSchema, recommendRequestSchema } from './protocol/recommend.ts';
import { type OrderHistoryRow, orderHistoryRowSchema, type ProfileRecordInput, profileRecordSchema } from './protocol/records.ts';
import type { Message, MessageTypeName } from './protocol/segment.ts';
import { affinityProfile } from './recommend/affinity.ts';
import { type RankResult, rankItems } from './recommend/rank.ts';
import { createRecommendService, type RecommendResult, type RecommendService } from './recommend/service.ts';
import { shoppingOf } from './recommend/shopping.ts';
import type { ErasedProfile, EventPage, IdentityKey, Store } from './store.ts';

export interface EngineOptions {
  store: Store;
  clock?: Clock;
  logger?: Logger;
  /** Unique id generator for profiles and generated messageIds (default: ULIDs). */
  newId?: () => string;
  /** Identifier types, limits and merge strategies (protected identifiers follow from `privacy.fields`). */
  identity?: Partial<Omit<IdentityConfig, 'blindIndex'>>;
  /** Inactivity that ends a session (default 30 minutes). */
  sessionTimeoutMs?: number;
  /** Most calls committed in one transaction (default 2000). */
  maxGroupSize?: number;
  /** How long recommendations reuse global lists (popular, trending, per category), in ms (default 5 minutes; 0: never). */
  recommendCacheMs?: number;
  /**
   * Decide's profile reads served from memory until a local write changes the profile. The TTL
   * bounds staleness from writers outside this process. Default: on for the embedded store
   * (60 s, 100,000 entries), off for stores that other nodes share; `false` turns it off.
   */
  decisionCache?: { ttlMs?: number; maxEntries?: number } | false;
  privacy?: PrivacyOptions;
  /** Retention per event name and for inactive anonymous profiles (privacy/retention.ts). */
  retention?: RetentionPolicyInput;
}

export interface PrivacyOptions {
  /** Purposes, the unknown-consent default and the per-event, per-field policy (privacy/consent.ts). */
  consent?: ConsentConfigInput;
  /**
   * Keyed hash (HMAC with a key kept outside the database) for `hash` rules, suppressed
   * identifiers and the blind index of identifiers `fields` protects (needed then, even to encrypt).
   */
  hash?: (value: string) => string;
  /** AES-256-GCM (key outside the database) for `encrypt` rules and stored-field policies. */
  cipher?: FieldCipher;
  /**
   * Traits and properties stored hashed or encrypted whatever the consent
   * (`{ 'traits.email': { policy: 'encrypt', purposes: ['marketing'] } }`), decrypted only for the
   * data subject's access export and activations of a listed purpose (privacy/fields.ts).
   */
  fields?: FieldPoliciesInput;
  /** How long an erased profile's identifiers are refused at ingestion. Default 30 days; 0 turns it off. */
  suppressForMs?: number;
  /** Catalog item types that are people, tombstoned on erasure when keyed by an erased identifier. Default user, customer. */
  personItemTypes?: string[];
}

export const DEFAULT_SUPPRESSION_MS = 30 * 24 * 3600_000;

export interface ProfileView {
  id: string;
  createdAt: string;
  updatedAt: string;
  traits: Record<string, unknown>;
  computed: ComputedSummary;
  /** `blind`: the value is a protected identifier's blind index (a keyed hash, not the value). */
  identities: Array<{ type: string; value: string; firstSeen: string; blind?: true }>;
  accounts: Array<{ id: string; traits: Record<string, unknown> }>;
  /** Audiences the profile is in, with the time it entered each. */
  audiences: Array<{ id: string; since: string }>;
}

export interface RowError {
  /** 1-based row number in the submitted file (header excluded for CSV). */
  row: number;
  issues: Issue[];
}

export interface ImportResult {
  rows: number;
  accepted: number;
  duplicates: number;
  errors: RowError[];
}

/** The outbox topic of erasures: downstream copies (webhooks, CMS, commerce) delete theirs. */
export const PROFILE_ERASED_TOPIC = 'profile.erased';

export interface Engine {
  readonly store: Store;
  readonly identity: IdentityConfig;
  /** Identifier types usable in lookups, strongest first. */
  readonly identifierTypes: string[];
  /** Validates one call (`type` from the endpoint) and ingests it. Throws AttuneError on bad input. */
  ingestCall(raw: unknown, type: MessageTypeName): Promise<IngestResult>;
  /** Validates a Segment batch body and ingests it, all or nothing. */
  ingestBatch(raw: unknown): Promise<IngestResult>;
  /** Ingests already validated messages (from parse*). */
  ingest(messages: Message[]): Promise<IngestResult>;
  /** Upserts profile records (external data); invalid rows are reported, valid rows kept. */
  importRecords(rows: unknown[]): Promise<ImportResult>;
  /** Imports past orders as back-office `Order Placed` events at their own time. */
  importOrders(rows: unknown[]): Promise<ImportResult>;
  getProfile(id: string): Promise<ProfileView | null>;
  /** Resolves an identifier to the profile id holding it. */
  findProfileId(type: string, value: string): Promise<string | null>;
  listEvents(profileId: string, query: { name?: string; since?: number; until?: number; limit?: number; cursor?: string }): Promise<EventPage | null>;
  /** Segment groups, audiences, real-time membership, timed exits and recomputes. */
  readonly audiences: AudienceService;
  /** Experiences, offers, decision tables, models, connectors, experiments and their results. */
  readonly decisions: DecisionService;
  /** What decide() knows of a visitor: traits, audiences, sticky variants and offer counts. */
  snapshot(ids: { anonymousId?: string | undefined; userId?: string | undefined }): Promise<DecisionSnapshot>;
  /**
   * Validates a decide request, decides every slot and records the exposures (durably, through
   * ingestion) unless `recordExposure` is false.
   */
  decide(raw: unknown, options?: { connectors?: ConnectorCaller | undefined }): Promise<DecideResult>;
  /** Recommendations from co-occurrence, popularity, trending, affinities and attribute similarity. */
  readonly recommendations: RecommendService;
  /** Validates a recommend request and answers it for the visitor (unknown visitors get non-personal lists). */
  recommend(raw: unknown): Promise<RecommendResult>;
  /** Validates a rank request and re-ranks its items for the visitor with the merchandiser's rules. */
  rank(raw: unknown): Promise<RankResult>;
  /** Content, products and other items exported by CMS and commerce adapters. */
  readonly catalog: CatalogService;
  /**
   * Erases a profile (found by any of its ids, merged-away ones included): its events,
   * identifiers and audience memberships. Audience exits and a `profile.erased` fact go to the
   * outbox in the same transaction, for activations and downstream copies. Null when no such
   * profile exists.
   */
  eraseProfile(profileId: string, options?: { requestId?: string }): Promise<ErasedProfile | null>;
  /** Consent by purpose, erasure requests and their receipts. */
  readonly privacy: PrivacyService;
  /** The retention policy's dry run and its application. */
  readonly retention: Retention;
  /** Waits until every accepted call is committed. */
  drain(): Promise<void>;
}

const IMPORT_CHUNK = 500;

export function createEngine(options: EngineOptions): Engine {
  const clock: Clock = options.clock ?? {
    now: () => Date.now(),
    defer: (fn) => void Promise.resolve().then(fn),
  };
  const logger = options.logger ?? silentLogger;
  const newId = options.newId ?? createIdGenerator(clock);
  const identity: IdentityConfig = {
    externalIds: options.identity?.externalIds ?? DEFAULT_IDENTITY_CONFIG.externalIds,
    limits: options.identity?.limits ?? DEFAULT_IDENTITY_CONFIG.limits,
    traitStrategies: options.identity?.traitStrategies ?? DEFAULT_IDENTITY_CONFIG.traitStrategies,
  };
  for (const t of identity.externalIds) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(t) || ['userId', 'email', 'phone', 'anonymousId'].includes(t)) {
      throw new AttuneError('VALIDATION', `external id type "${t}" must be snake_case (a-z, 0-9, _) and not a built-in identifier`);
    }
  }
  const cacheOn = options.decisionCache === undefined ? options.store.kind === 'sqlite' : options.decisionCache !== false;
  const store = cacheOn
    ? withDecisionProfileCache(options.store, {
        ttlMs: (options.decisionCache || {}).ttlMs ?? 60_000,
        maxEntries: (options.decisionCache || {}).maxEntries ?? 100_000,
        now: () => clock.now(),
      }).store
    : options.store;
  const consentConfig = parseConsentConfig(options.privacy?.consent);
  const ingestPrivacy: IngestPrivacy = {
    consent: consentConfig,
    hash: options.privacy?.hash,
    cipher: options.privacy?.cipher,
    fields: parseFieldPolicies(options.privacy?.fields, consentConfig.purposes, { hash: options.privacy?.hash, cipher: options.privacy?.cipher }),
    suppressForMs: options.privacy?.suppressForMs ?? DEFAULT_SUPPRESSION_MS,
  };
  // A protected email, phone or external id still links profiles, by a keyed hash of its value.
  identity.blindIndex = blindIndexFor(ingestPrivacy.fields, identity.externalIds, ingestPrivacy.hash);
  // A rule the host cannot carry out fails here, at start-up, not at the first call it applies to.
  for (const [name, rule] of Object.entries(consentConfig.events)) {
    for (const [path, f] of Object.entries(rule.fields)) {
      const missing = f.otherwise === 'encrypt' && !ingestPrivacy.cipher ? 'an encryption key (ATTUNE_ENCRYPTION_KEY)' : f.otherwise === 'hash' && !ingestPrivacy.hash ? 'a hash key' : null;
      if (missing) throw new AttuneError('VALIDATION', `privacy.consent.events.${name}.fields.${path}: ${f.otherwise} needs ${missing}`);
    }
  }
  const audiences = createAudienceService({ store, clock, logger });
  const decisions = createDecisionService({ store, clock, logger, audiences });
  const recommendations = createRecommendService({ store, clock, cacheMs: options.recommendCacheMs });
  const catalog = createCatalogService({ store, clock });
  const committer = new Committer({
    store,
    clock,
    logger,
    maxGroupSize: options.maxGroupSize ?? 2000,
    settings: {
      audiences: () => audiences.compiled(),
      goals: () => decisions.goals(),
      identity,
      sessionTimeoutMs: options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      newId,
      now: () => clock.now(),
      privacy: ingestPrivacy,
    },
    onCommitted: ({ merges, recommendQueued }) => {
      if (recommendQueued) recommendations.noteQueued();
      for (const m of merges) logger.info({ from: m.from, into: m.into }, 'profiles merged');
    },
  });
  const parseOptions = () => ({ receivedAt: clock.now(), newId });
  const retention = createRetention(parseRetentionPolicy(options.retention), {
    store,
    clock,
    newId,
    eraseExpired: async (id) => (await erase(id, null, false)) !== null,
  });
  const tag = (type: string, value: string) => identifierTag(type, value, identity);
  const privacy = createPrivacyService({
    store,
    clock,
    identity,
    consent: ingestPrivacy.consent,
    fields: ingestPrivacy.fields,
    cipher: ingestPrivacy.cipher,
    newId,
    resolveLive: (id) => resolveLive(id),
    logger,
    personItemTypes: options.privacy?.personItemTypes ?? ['user', 'customer'],
    summarize: (p) => summarizeComputed(p.computed),
    erase: (id, requestId) => erase(id, requestId),
    resend: async (notice, activationId) => {
      const now = clock.now();
      await store.transaction((tx) =>
        tx.appendOutbox([{ topic: PROFILE_ERASED_TOPIC, key: notice.profileId, createdAt: now, payload: { ...notice, id: `${notice.id}:resend:${now}`, resendTo: activationId } }]),
      );
    },
  });

  async function resolveLive(id: string): Promise<ProfileRecord | null> {
    let current = await store.getProfile(id);
    for (let hops = 0; current?.mergedInto && hops < 100; hops++) current = await store.getProfile(current.mergedInto);
    return current?.mergedInto ? null : current;
  }

  async function importRows<T>(
    rows: unknown[],
    parse: (row: unknown) => { ok: true; value: T } | { ok: false; issues: Issue[] },
    toMessages: (value: T) => unknown[],
  ): Promise<ImportResult> {
    const result: ImportResult = { rows: rows.length, accepted: 0, duplicates: 0, errors: [] };
    let chunk: Message[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const r = await committer.submit(chunk);
      result.accepted += r.accepted;
      result.duplicates += r.duplicates;
      chunk = [];
    };
    for (const [i, row] of rows.entries()) {
      const parsed = parse(row);
      if (!parsed.ok) {
        result.errors.push({ row: i + 1, issues: parsed.issues });
        continue;
      }
      try {
        for (const raw of toMessages(parsed.value)) chunk.push(parseMessageOrThrow(raw, undefined, parseOptions()));
      } catch (e) {
        result.errors.push({ row: i + 1, issues: e instanceof AttuneError ? e.issues : [{ path: '(root)', message: String(e) }] });
      }
      if (chunk.length >= IMPORT_CHUNK) await flush();
    }
    await flush();
    return result;
  }

  function schemaParser<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }) {
    return (row: unknown): { ok: true; value: T } | { ok: false; issues: Issue[] } => {
      const safety = inspectJson(row);
      if (safety.length > 0) return { ok: false, issues: safety };
      const r = schema.safeParse(row);
      return r.success ? { ok: true, value: r.data } : { ok: false, issues: zodIssues(r.error) };
    };
  }

  return {
    store,
    identity,
    identifierTypes: identityPriority(identity),
    // async: bad input rejects the promise rather than throwing at the call.
    ingestCall: async (raw, type) => committer.submit([parseMessageOrThrow(raw, type, parseOptions())]),
    ingestBatch: async (raw) => committer.submit(parseBatchOrThrow(raw, parseOptions())),
    ingest: async (messages) => committer.submit(messages),
    importRecords: (rows) =>
      importRows(rows, schemaParser(profileRecordSchema), (r: ProfileRecordInput) => [recordToIdentify(r, tag)]),
    importOrders: (rows) => importRows(rows, schemaParser(orderHistoryRowSchema), (r: OrderHistoryRow) => orderRowToEvents(r, tag)),
    async getProfile(id) {
      const p = await resolveLive(id);
      if (!p) return null;
      const [identities, accounts] = await Promise.all([
        store.listIdentities(p.id),
        Promise.all(p.accountIds.map((a) => store.getAccount(a))),
      ]);
      return {
        id: p.id,
        createdAt: new Date(p.createdAt).toISOString(),
        updatedAt: new Date(p.updatedAt).toISOString(),
        traits: p.traits,
        computed: summarizeComputed(p.computed),
        identities: identities.map((i) => ({
          type: i.type,
          value: i.value,
          firstSeen: new Date(i.firstSeen).toISOString(),
          ...(isBlindIndexed(i, identity) ? { blind: true as const } : {}),
        })),
        accounts: accounts.filter((a) => a !== null).map((a) => ({ id: a.id, traits: a.traits })),
        audiences: Object.entries(p.audiences)
          .sort((a, b) => a[0].localeCompare(b[0]))
          .map(([audienceId, since]) => ({ id: audienceId, since: new Date(since).toISOString() })),
      };
    },
    async findProfileId(type, value) {
      const [id] = await profilesByIdentifier((key) => store.findProfileId(key), type, value, identity);
      return id ?? null;
    },
    async listEvents(profileId, query) {
      const p = await resolveLive(profileId);
      if (!p) return null;
      return store.queryEvents({ profileId: p.id, ...query, limit: Math.min(Math.max(query.limit ?? 50, 1), 1000) });
    },
    audiences,
    decisions,
    catalog,
    snapshot,
    async eraseProfile(profileId, eraseOptions = {}) {
      return (await erase(profileId, eraseOptions.requestId ?? null))?.erased ?? null;
    },
    privacy,
    retention,
    async decide(raw, options = {}) {
      const parsed = decideRequestSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = zodIssues(parsed.error);
        throw new AttuneError('VALIDATION', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
      }
      const request = parsed.data;
      const now = clock.now();
      // Without personalization consent: the site's defaults, and the profile is not used.
      const sent = consentOfContext(request.context, ingestPrivacy.consent);
      if (sent && sent[PERSONALIZATION] !== true) return withoutConsent(request, null, 'request');
      const snap = await snapshot(request);
      if (snap.profileId !== null || sent) {
        const grants = effectiveGrants(snap.consent, sent, ingestPrivacy.consent);
        if (grants[PERSONALIZATION] !== true) return withoutConsent(request, snap.profileId, 'profile');
      } else if (ingestPrivacy.consent.unknown !== 'all') return withoutConsent(request, null, 'unknown');
      const manifest = decisions.manifest();
      const result = await decide(manifest, snap, request, now, { connectors: options.connectors, recommendations });
      if (request.recordExposure && (result.exposures.length > 0 || result.offersShown.length > 0)) {
        const who = { ...(request.anonymousId ? { anonymousId: request.anonymousId } : {}), ...(request.userId ? { userId: request.userId } : {}) };
        const timestamp = new Date(now).toISOString();
        const calls: unknown[] = [];
        for (const x of result.exposures) {
          if (snap.assignments[x.experiment]) continue;
          // One stored exposure per visitor and experiment: repeats are duplicate messageIds.
          const messageId = `xv:${x.experiment}:${x.unit}`;
          calls.push({
            type: 'track',
            event: EXPOSURE_EVENT,
            ...(messageId.length <= 255 ? { messageId } : {}),
            timestamp,
            properties: { experiment_id: x.experiment, variation_id: x.variant, experience_id: x.experience },
            context: { source: 'decide' },
            ...who,
          });
        }
        // Impressions matter for frequency caps only: uncapped offers are not written per request.
        const offers = compileManifest(manifest).offers;
        for (const offerId of result.offersShown) {
          if (!offers.get(offerId)?.caps) continue;
          calls.push({ type: 'track', event: OFFER_VIEWED_EVENT, timestamp, properties: { offer_id: offerId }, context: { source: 'decide' }, ...who });
        }
        if (calls.length > 0) {
          // Measurement, not a client's events: committed before the answer, without waiting for the disk.
          const r = await committer.submit(
            calls.map((c) => parseMessageOrThrow(c, undefined, parseOptions())),
            { durable: false },
          );
          result.profileId ??= r.profileIds?.find((id) => id !== null) ?? null;
        }
      }
      return result;
    },
    recommendations,
    async recommend(raw) {
      const request = parseOrThrow(recommendRequestSchema, raw);
      const snap = request.anonymousId !== undefined || request.userId !== undefined ? await snapshot(request) : EMPTY_SNAPSHOT;
      return recommendations.recommend(request, { shopping: shoppingOf(snap.computed), seeds: request.items ?? [] });
    },
    async rank(raw) {
      const request = parseOrThrow(rankRequestSchema, raw);
      const [snap, items, trending] = await Promise.all([
        request.anonymousId !== undefined || request.userId !== undefined ? snapshot(request) : EMPTY_SNAPSHOT,
        recommendations.items(request.items),
        recommendations.trending(),
      ]);
      const max = trending[0]?.n ?? 1;
      return rankItems({
        ids: request.items,
        items,
        affinity: affinityProfile(shoppingOf(snap.computed)),
        trending: new Map(trending.map((t) => [t.id, t.n / max])),
        rules: request.rules,
        weights: request.weights,
      });
    },
    drain: () => committer.drain(),
  };

  /** Every slot at its default, with a reason and (on request) a trace saying why. */
  function withoutConsent(request: { slots: string[]; explain: boolean }, profileId: string | null, from: 'request' | 'profile' | 'unknown'): DecideResult {
    const decisionsOut: DecideResult['decisions'] = {};
    for (const slot of request.slots) {
      decisionsOut[slot] = {
        experience: null,
        variant: null,
        content: null,
        reason: 'no_consent',
        ...(request.explain ? { trace: [{ step: 'consent', purpose: PERSONALIZATION, granted: false, from, profileRead: false }] } : {}),
      };
    }
    return { profileId, decisions: decisionsOut, exposures: [], offersShown: [], ...(request.explain ? { trace: { unit: '', now: new Date(clock.now()).toISOString() } } : {}) };
  }

  async function erase(profileId: string, requestId: string | null, suppress = true): Promise<{ erased: ErasedProfile; notice: ErasureNotice } | null> {
    // Calls accepted before the erasure are committed first, so none lands after it.
    await committer.drain();
    const live = await resolveLive(profileId);
    if (!live) return null;
    const now = clock.now();
    const done = await store.transaction(async (tx) => {
      const profile = (await tx.getProfiles([live.id])).get(live.id);
      const result = await tx.eraseProfile(live.id);
      if (result.profileIds.length === 0) return null;
      // The profile's contributions to experiment results go with it.
      const withdrawals = profile ? statWithdrawals(profile) : [];
      if (withdrawals.length > 0) await tx.addExperimentStats(withdrawals);
      result.statistics = withdrawals.length;
      if (suppress && ingestPrivacy.suppressForMs > 0 && result.identities.length > 0) {
        await tx.suppress(result.identities.map((k) => ({ key: suppressionKey(k, ingestPrivacy.hash), until: now + ingestPrivacy.suppressForMs })));
      }
      const notice: ErasureNotice = {
        id: `erased:${live.id}:${now}`,
        requestId,
        profileId: live.id,
        profileIds: result.profileIds,
        identities: result.identities,
        at: new Date(now).toISOString(),
      };
      await tx.appendOutbox([
        ...result.audiences.map((a) => membershipFact(a, live.id, 'exited', now, now)),
        { topic: PROFILE_ERASED_TOPIC, key: live.id, createdAt: now, payload: notice },
      ]);
      return { erased: result, notice };
    });
    if (done) logger.info({ profileId: live.id, events: done.erased.events }, 'profile erased');
    return done;
  }

  async function snapshot(ids: { anonymousId?: string | undefined; userId?: string | undefined }): Promise<DecisionSnapshot> {
    const user = ids.userId !== undefined ? normalizeIdentifier('userId', ids.userId) : null;
    const anon = ids.anonymousId !== undefined ? normalizeIdentifier('anonymousId', ids.anonymousId) : null;
    let p = user !== null ? await store.decisionProfile({ type: 'userId', value: user }) : null;
    if (!p && anon !== null) p = await store.decisionProfile({ type: 'anonymousId', value: anon });
    if (!p) return EMPTY_SNAPSHOT;
    // No personalization consent: nothing of the profile leaves the store, for decide or a browser.
    if (effectiveGrants(p.consent, null, ingestPrivacy.consent)[PERSONALIZATION] !== true) return { ...EMPTY_SNAPSHOT, profileId: p.id, consent: p.consent };
    return {
      profileId: p.id,
      traits: p.traits,
      computed: p.computed,
      audiences: Object.keys(p.audiences),
      assignments: p.experiments,
      offers: p.offerImpressions,
      consent: p.consent,
    };
  }
}

/** How an identifier appears in an id generated from it (identifierTag: blind when protected). */
type IdentifierTag = (type: string, value: string) => string;

function recordToIdentify(r: ProfileRecordInput, tag: IdentifierTag): Record<string, unknown> {
  const traits: Record<string, unknown> = { ...r.traits };
  if (r.email !== undefined) traits.email = r.email;
  if (r.phone !== undefined) traits.phone = r.phone;
  const externalIds = Object.entries(r.externalIds ?? {}).map(([type, id]) => ({ id, type, collection: 'users', encoding: 'none' }));
  for (const { type, id } of externalIds) traits[type] ??= id;
  return {
    type: 'identify',
    ...(r.messageId ? { messageId: r.messageId } : {}),
    ...(r.userId ? { userId: r.userId } : {}),
    ...(r.anonymousId ? { anonymousId: r.anonymousId } : {}),
    // Records may carry only an email or an external id; the identity is in the traits then.
    ...(!r.userId && !r.anonymousId ? { anonymousId: `record:${recordTag(r, externalIds, tag)}` } : {}),
    ...(r.timestamp ? { timestamp: r.timestamp } : {}),
    traits,
    context: { source: 'profile-record', ...(externalIds.length > 0 ? { externalIds } : {}) },
  };
}

function recordTag(r: ProfileRecordInput, externalIds: Array<{ type: string; id: string }>, tag: IdentifierTag): string | undefined {
  if (r.email !== undefined) return tag('email', r.email);
  if (r.phone !== undefined) return tag('phone', r.phone);
  const first = externalIds[0];
  return first ? tag(first.type, first.id) : undefined;
}

function orderRowToEvents(r: OrderHistoryRow, tag: IdentifierTag): unknown[] {
  const who = {
    ...(r.userId ? { userId: r.userId } : {}),
    ...(r.anonymousId ? { anonymousId: r.anonymousId } : {}),
    ...(!r.userId && !r.anonymousId ? { anonymousId: `order-import:${r.email === undefined ? undefined : tag('email', r.email)}` } : {}),
  };
  const context = { channel: 'back_office', source: 'order-history-import', ...(r.email ? { traits: { email: r.email } } : {}) };
  const properties = {
    order_id: r.order_id,
    ...(r.total !== undefined ? { total: r.total } : {}),
    ...(r.revenue !== undefined ? { revenue: r.revenue } : {}),
    ...(r.currency ? { currency: r.currency } : {}),
    ...(r.products ? { products: r.products } : {}),
    imported: true,
  };
  const events: unknown[] = [
    { type: 'track', event: 'Order Placed', messageId: `order-history:${r.order_id}`, timestamp: r.timestamp, properties, context, ...who },
  ];
  if (r.status !== 'completed') {
    events.push({
      type: 'track',
      event: r.status === 'cancelled' ? 'Order Cancelled' : 'Order Refunded',
      messageId: `order-history:${r.order_id}:${r.status}`,
      timestamp: r.timestamp,
      properties: { ...properties, ...(r.status === 'refunded' ? { returned: true } : {}) },
      context,
      ...who,
    });
  }
  return events;
}
