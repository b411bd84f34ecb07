import { AttuneError } from '../errors.ts';
import { type IdentityConfig, profilesByIdentifier } from '../identity/identifiers.ts';
import type { Clock, Logger } from '../ports.ts';
import type { ProfileRecord } from '../profiles/types.ts';
import type { ErasedProfile, Store } from '../store.ts';
import { ACCESS_PAGE_KIND, type AccessEventRow, type AccessProgress, type AccessSummary, accessEventPages, collectAccessExport } from './access.ts';
import { type ConsentConfig, type ConsentState, effectiveGrants, type Grants, grantsFromCategories, NECESSARY, recordConsent } from './consent.ts';
import { maskIdentifier } from './erasure.ts';
import { type FieldCipher, type FieldPolicy, revealAll, traitsForPurpose } from './fields.ts';

export const PRIVACY_REQUEST_KIND = 'privacy-request';

export type TargetStatus = 'pending' | 'delivered' | 'confirmed';

/** One place an erasure must reach: the store itself, or a destination Attune sent data to. */
export interface ErasureTarget {
  /** `store`, or `activation:<id>` for a webhook destination (plugins register one too). */
  target: string;
  /**
   * `delivery`: the destination's 2xx to the erasure notice confirms it (plain webhooks);
   * `callback`: the destination confirms after deleting its copy, via
   * `POST /v1/privacy/requests/:id/confirmations` (CMS and commerce adapters).
   */
  confirm: 'delivery' | 'callback';
  status: TargetStatus;
  /** Notices sent so far (the first one and resends). */
  attempts: number;
  updatedAt: string;
  confirmedAt: string | null;
  details?: Record<string, unknown>;
}

export interface PrivacyRequest {
  id: string;
  type: 'erasure' | 'access';
  /** `completed` once every target confirmed (erasure) or the export is ready (access); `not_found` when no profile held the identifier. */
  status: 'pending' | 'completed' | 'not_found' | 'failed';
  /** Access requests: how far the background export got. */
  progress?: AccessProgress;
  /** Access requests: the export without its events (internal; served by the download). */
  summary?: AccessSummary;
  /** The identifier asked for, masked: the receipt must not keep what was erased. */
  identifier: { type: string; value: string };
  profileIds: string[];
  createdAt: string;
  completedAt: string | null;
  targets: ErasureTarget[];
  /** The notice as sent, kept only until every destination confirmed, to resend it. */
  notice?: ErasureNotice | undefined;
}

/** The `profile.erased` outbox payload: what destinations need to find and delete their copies. */
export interface ErasureNotice {
  id: string;
  requestId: string | null;
  profileId: string;
  profileIds: string[];
  identities: Array<{ type: string; value: string }>;
  at: string;
  /** Set on a resend: only this activation wants it. */
  resendTo?: string;
}

/** A destination that holds copies of personal data and receives erasure notices. */
export interface ErasureDestination {
  id: string;
  confirm: 'delivery' | 'callback';
}

export interface PrivacyServiceDeps {
  store: Store;
  clock: Clock;
  consent: ConsentConfig;
  /** How an identifier asked for is stored (normalised, blind-indexed when protected). */
  identity: IdentityConfig;
  /** Traits and properties stored hashed or encrypted (privacy/fields.ts). */
  fields?: FieldPolicy[];
  /** Decrypts them for the access export and for activations of a listed purpose. */
  cipher?: FieldCipher | undefined;
  newId: () => string;
  resolveLive: (id: string) => Promise<ProfileRecord | null>;
  logger: Logger;
  /** Catalog item types that are people (`user`, `customer`): an erased identifier's items become tombstones. */
  personItemTypes: string[];
  /** The computed traits as the API shows them. */
  summarize: (p: ProfileRecord) => unknown;
  erase: (profileId: string, requestId: string) => Promise<{ erased: ErasedProfile; notice: ErasureNotice } | null>;
  /** Writes a notice to the outbox again, for one destination only. */
  resend: (notice: ErasureNotice, activationId: string) => Promise<void>;
}

export interface ConsentView {
  profileId: string;
  purposes: Grants;
  /** False when the profile never expressed consent (the `unknown` default applies). */
  expressed: boolean;
  history: Array<{ purposes: Grants; at: string; source: string }>;
}

export function createPrivacyService(deps: PrivacyServiceDeps) {
  const { store, clock, consent } = deps;

  function view(profileId: string, state: ConsentState | undefined): ConsentView {
    const purposes: Grants = {};
    for (const p of consent.purposes) purposes[p] = p === NECESSARY || (state ? state.purposes[p] === true : consent.unknown === 'all');
    return {
      profileId,
      purposes,
      expressed: state !== undefined,
      history: (state?.history ?? []).map((h) => ({ purposes: h.purposes, at: new Date(h.at).toISOString(), source: h.source })),
    };
  }

  async function update(id: string, change: (r: PrivacyRequest) => boolean): Promise<PrivacyRequest | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const doc = await store.docs.get(PRIVACY_REQUEST_KIND, id);
      if (!doc) return null;
      const r = structuredCloneJson(doc.body as PrivacyRequest);
      if (!change(r)) return r;
      if (r.type === 'erasure' && r.status === 'pending' && r.targets.every((t) => t.status === 'confirmed')) {
        r.status = 'completed';
        r.completedAt = new Date(clock.now()).toISOString();
        // Every copy is gone: the identifiers the notice carried go too.
        delete r.notice;
      }
      if (await store.docs.put(PRIVACY_REQUEST_KIND, id, r, doc.version, clock.now())) return r;
    }
    throw new AttuneError('CONFLICT', `privacy request ${id} changed too often to update`);
  }

  /** Access exports of an erased person are erased too: their pages and summary go, the request stays as a record. */
  async function forgetAccessExports(profileIds: string[]): Promise<void> {
    const ids = new Set(profileIds);
    for (const doc of await store.docs.list(PRIVACY_REQUEST_KIND)) {
      const r = doc.body as PrivacyRequest;
      if (r.type !== 'access' || !r.profileIds.some((p) => ids.has(p))) continue;
      for (let i = 0; i < (r.progress?.pages ?? 0); i++) await store.docs.delete(ACCESS_PAGE_KIND, `${r.id}:${i}`);
      await update(r.id, (x) => {
        if (!x.summary && x.status === 'failed') return false;
        delete x.summary;
        x.status = 'failed';
        if (x.progress) x.progress = { ...x.progress, phase: 'failed', error: 'the person was erased' };
        return true;
      });
    }
  }

  /**
   * Export streams: catalog items of a person type keyed by an erased identifier (a CMS user, a
   * commerce customer exported to Attune) become tombstones, so every consumer of the stream drops them.
   */
  async function tombstonePeople(identities: Array<{ type: string; value: string }>): Promise<number> {
    if (deps.personItemTypes.length === 0 || identities.length === 0) return 0;
    let n = 0;
    const now = clock.now();
    for (const stream of await store.catalog.streams()) {
      for (const type of deps.personItemTypes) {
        for (const { value } of identities) {
          const item = await store.catalog.get(stream.streamId, { type, id: value });
          if (!item || item.deleted) continue;
          const updatedAt = new Date(Math.max(now, Date.parse(item.updatedAt) + 1)).toISOString();
          n += (await store.catalog.apply(stream.streamId, [{ id: value, type, updatedAt, deleted: true, fields: [] }], now)).deleted;
        }
      }
    }
    return n;
  }

  /** The profiles an identifier (or a profile id) names (profilesByIdentifier). */
  const profilesNamed = (input: { type: string; value: string }): Promise<string[]> =>
    input.type === 'profileId' ? Promise.resolve([input.value]) : profilesByIdentifier((key) => store.findProfileId(key), input.type, input.value, deps.identity);

  const service = {
    config: consent,
    /**
     * Whether a destination of this purpose may receive the profile's data now; null when the
     * profile no longer exists (erased), so the caller decides (an exit may still go out).
     */
    async allows(profileId: string, purpose: string): Promise<boolean | null> {
      const p = await deps.resolveLive(profileId);
      if (!p) return null;
      return effectiveGrants(p.consent?.purposes, null, consent)[purpose] === true;
    },
    async getConsent(profileId: string): Promise<ConsentView | null> {
      const live = await deps.resolveLive(profileId);
      if (!live) return null;
      const p = await store.getProfile(live.id);
      return p ? view(p.id, p.consent) : null;
    },
    /**
     * Grants or revokes purposes on a profile, with the source named in its history. Category
     * names map to purposes as on events; unknown names are an error.
     */
    async setConsent(profileId: string, input: { purposes: Record<string, boolean>; source?: string | undefined }): Promise<ConsentView | null> {
      const unknown = Object.keys(input.purposes).filter((k) => !consent.purposes.includes(k) && consent.categories[k] === undefined);
      if (unknown.length > 0) {
        throw new AttuneError('VALIDATION', `purposes.${unknown[0]}: unknown purpose (declared: ${consent.purposes.join(', ')})`, {
          issues: unknown.map((k) => ({ path: `purposes.${k}`, message: 'unknown purpose' })),
        });
      }
      const live = await deps.resolveLive(profileId);
      if (!live) return null;
      const grants = grantsFromCategories(input.purposes, consent);
      const now = clock.now();
      const state = await store.transaction(async (tx) => {
        const p = (await tx.getProfiles([live.id])).get(live.id);
        if (!p) return null;
        p.consent = recordConsent(p.consent, { purposes: grants, at: now, source: input.source ?? 'api' }, consent);
        p.updatedAt = Math.max(p.updatedAt, now);
        await tx.putProfiles([p]);
        return p.consent;
      });
      return state ? view(live.id, state) : null;
    },

    /**
     * Erases the profile an identifier (or profile id) names and opens a request whose receipt
     * lists the store (confirmed when the transaction commits) and every destination, pending
     * until each confirms.
     */
    async requestErasure(input: { type: string; value: string }, destinations: ErasureDestination[]): Promise<PrivacyRequest> {
      return (await service.erase(input, destinations)).receipt;
    },
    /** `requestErasure`, also returning what the store removed. */
    async erase(input: { type: string; value: string }, destinations: ErasureDestination[]): Promise<{ receipt: PrivacyRequest; erased: ErasedProfile | null }> {
      const id = `er_${deps.newId()}`;
      const erasures: Array<{ erased: ErasedProfile; notice: ErasureNotice }> = [];
      for (const profileId of await profilesNamed(input)) {
        const one = await deps.erase(profileId, id);
        if (one) erasures.push(one);
      }
      const done = combineErasures(erasures);
      const erased = done?.erased ?? null;
      if (erased) await forgetAccessExports(erased.profileIds);
      const tombstones = erased ? await tombstonePeople(erased.identities) : 0;
      const at = new Date(clock.now()).toISOString();
      const request: PrivacyRequest = {
        id,
        type: 'erasure',
        status: erased ? 'pending' : 'not_found',
        identifier: { type: input.type, value: maskIdentifier(input.value) },
        profileIds: erased?.profileIds ?? [],
        createdAt: at,
        completedAt: null,
        targets: erased
          ? [
              {
                target: 'store',
                confirm: 'delivery',
                status: 'confirmed',
                attempts: 1,
                updatedAt: at,
                confirmedAt: at,
                details: { kind: store.kind, events: erased.events, identities: erased.identities.length, audiences: erased.audiences.length, statistics: erased.statistics ?? 0, catalogTombstones: tombstones },
              },
              ...destinations.map((d): ErasureTarget => ({ target: `activation:${d.id}`, confirm: d.confirm, status: 'pending', attempts: 0, updatedAt: at, confirmedAt: null })),
            ]
          : [],
        ...(done && destinations.length > 0 ? { notice: done.notice } : {}),
      };
      if (erased && request.targets.every((t) => t.status === 'confirmed')) {
        request.status = 'completed';
        request.completedAt = at;
      }
      await store.docs.put(PRIVACY_REQUEST_KIND, id, request, 0, clock.now());
      const { notice: _notice, ...receipt } = request;
      return { receipt, erased };
    },
    /** The receipt (without the notice it keeps for resends, or an access export's content). */
    async getRequest(id: string): Promise<PrivacyRequest | null> {
      const r = (await store.docs.get(PRIVACY_REQUEST_KIND, id))?.body as PrivacyRequest | undefined;
      if (!r) return null;
      const { notice: _notice, summary: _summary, ...receipt } = r;
      return receipt;
    },
    /** An access request's export summary (profile, identities, audiences, consent, decisions) once ready, as stored. */
    async accessSummary(id: string): Promise<{ request: PrivacyRequest; summary: AccessSummary } | null> {
      const r = (await store.docs.get(PRIVACY_REQUEST_KIND, id))?.body as PrivacyRequest | undefined;
      if (!r || r.type !== 'access' || r.status !== 'completed' || !r.summary) return null;
      return { request: r, summary: r.summary };
    },
    /**
     * The access export for the data subject, once ready: encrypted fields decrypted as it is
     * read (the stored pages keep them encrypted). `undecryptable` counts values whose key is gone.
     */
    async accessExport(id: string): Promise<{ request: PrivacyRequest; summary: AccessSummary; pages: AsyncGenerator<AccessEventRow[]>; undecryptable: { n: number } } | null> {
      const ready = await service.accessSummary(id);
      if (!ready) return null;
      const undecryptable = { n: 0 };
      const summary = revealAll(ready.summary, deps.cipher, undecryptable) as AccessSummary;
      async function* pages(): AsyncGenerator<AccessEventRow[]> {
        for await (const page of accessEventPages(store, id, ready?.request.progress?.pages ?? 0)) yield revealAll(page, deps.cipher, undecryptable) as AccessEventRow[];
      }
      return { request: ready.request, summary, pages: pages(), undecryptable };
    },
    /**
     * Profile traits for a destination of `purpose` (an activation that asked for them):
     * encrypted fields decrypted only when the purpose is listed for them, left out otherwise.
     * Null when the profile no longer exists.
     */
    async traitsFor(profileId: string, names: readonly string[], purpose: string): Promise<Record<string, unknown> | null> {
      const p = await deps.resolveLive(profileId);
      if (!p) return null;
      return traitsForPurpose(p.traits, names, purpose, deps.fields ?? [], deps.cipher);
    },
    /**
     * Opens an access request and exports, in the background, everything held about the
     * profile an identifier names; the request shows the progress.
     */
    async requestAccess(input: { type: string; value: string }): Promise<PrivacyRequest> {
      const id = `ar_${deps.newId()}`;
      const [profileId] = await profilesNamed(input);
      const profile = profileId === undefined ? null : await deps.resolveLive(profileId);
      const at = new Date(clock.now()).toISOString();
      const request: PrivacyRequest = {
        id,
        type: 'access',
        status: profile ? 'pending' : 'not_found',
        identifier: { type: input.type, value: maskIdentifier(input.value) },
        profileIds: profile ? [profile.id] : [],
        createdAt: at,
        completedAt: null,
        targets: [],
        ...(profile ? { progress: { phase: 'queued', events: 0, totalEvents: 0, pages: 0 } } : {}),
      };
      await store.docs.put(PRIVACY_REQUEST_KIND, id, request, 0, clock.now());
      if (profile) {
        const report = (progress: AccessProgress, summary?: AccessSummary) =>
          update(id, (r) => {
            r.progress = { ...progress };
            if (summary) r.summary = summary;
            if (progress.phase === 'done' || progress.phase === 'failed') {
              r.status = progress.phase === 'done' ? 'completed' : 'failed';
              r.completedAt = new Date(clock.now()).toISOString();
            }
            return true;
          }).then(() => undefined);
        clock.defer(() => {
          collectAccessExport({ store, clock, logger: deps.logger, summarize: deps.summarize }, id, profile, report).catch((error: unknown) => {
            deps.logger.error({ request: id, err: String(error) }, 'access export failed');
            void report({ phase: 'failed', events: 0, totalEvents: 0, pages: 0, error: String(error) }).catch(() => undefined);
          });
        });
      }
      return request;
    },
    /** A notice reached a destination (2xx): confirmed for `delivery` destinations, delivered otherwise. */
    noticeDelivered(requestId: string, target: string): Promise<PrivacyRequest | null> {
      return update(requestId, (r) => {
        const t = r.targets.find((x) => x.target === target);
        if (!t) return false;
        // Counted even when the destination's confirmation came back before this report of the delivery.
        t.attempts += 1;
        if (t.status === 'confirmed') return true;
        const at = new Date(clock.now()).toISOString();
        t.updatedAt = at;
        t.status = t.confirm === 'delivery' ? 'confirmed' : 'delivered';
        if (t.status === 'confirmed') t.confirmedAt = at;
        return true;
      });
    },
    /** A destination deleted its copy. Unknown targets are an error (what was asked, where). */
    async confirm(requestId: string, target: string, details?: Record<string, unknown>): Promise<PrivacyRequest | null> {
      let known = true;
      const r = await update(requestId, (req) => {
        const t = req.targets.find((x) => x.target === target);
        if (!t) {
          known = false;
          return false;
        }
        if (t.status === 'confirmed') return false;
        const at = new Date(clock.now()).toISOString();
        t.status = 'confirmed';
        t.updatedAt = at;
        t.confirmedAt = at;
        if (details) t.details = details;
        return true;
      });
      if (r && !known) throw new AttuneError('NOT_FOUND', `privacy request ${requestId} has no target "${target}" (targets: ${r.targets.map((t) => t.target).join(', ')})`);
      return r;
    },
    /** Destinations that received a notice but did not confirm within `olderThanMs` (pending ones: 10×): to resend. */
    async unconfirmed(olderThanMs: number): Promise<Array<{ request: PrivacyRequest; target: ErasureTarget }>> {
      const now = clock.now();
      const out: Array<{ request: PrivacyRequest; target: ErasureTarget }> = [];
      for (const doc of await store.docs.list(PRIVACY_REQUEST_KIND)) {
        const r = doc.body as PrivacyRequest;
        if (r.status !== 'pending') continue;
        for (const t of r.targets) {
          // A pending notice is still being retried by the delivery worker: resent only much later (dead-lettered).
          const wait = t.status === 'delivered' ? olderThanMs : olderThanMs * 10;
          if (t.status !== 'confirmed' && now - Date.parse(t.updatedAt) >= wait) out.push({ request: r, target: t });
        }
      }
      return out;
    },
    /**
     * Sends the erasure notice again to every destination that has not confirmed within
     * `olderThanMs` (a scheduled job calls this); returns how many notices were resent.
     */
    async resendUnconfirmed(olderThanMs: number): Promise<number> {
      let n = 0;
      for (const { request, target } of await service.unconfirmed(olderThanMs)) {
        if (!request.notice || !target.target.startsWith('activation:')) continue;
        await deps.resend(request.notice, target.target.slice('activation:'.length));
        await update(request.id, (r) => {
          const t = r.targets.find((x) => x.target === target.target);
          if (!t || t.status === 'confirmed') return false;
          t.updatedAt = new Date(clock.now()).toISOString();
          return true;
        });
        n++;
      }
      return n;
    },
  };
  return service;
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;

/** One receipt and one notice (resent as a whole) for the profiles one request erased. */
function combineErasures(all: Array<{ erased: ErasedProfile; notice: ErasureNotice }>): { erased: ErasedProfile; notice: ErasureNotice } | null {
  const [first, ...rest] = all;
  if (!first) return null;
  const erased: ErasedProfile = { ...first.erased };
  const notice: ErasureNotice = { ...first.notice };
  for (const more of rest) {
    erased.profileIds = [...erased.profileIds, ...more.erased.profileIds];
    erased.events += more.erased.events;
    erased.identities = [...erased.identities, ...more.erased.identities];
    erased.audiences = [...new Set([...erased.audiences, ...more.erased.audiences])];
    erased.statistics = (erased.statistics ?? 0) + (more.erased.statistics ?? 0);
    notice.profileIds = [...notice.profileIds, ...more.notice.profileIds];
    notice.identities = [...notice.identities, ...more.notice.identities];
  }
  return { erased, notice };
}

function structuredCloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
