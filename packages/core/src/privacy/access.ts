import { EXPOSURE_EVENT, OFFER_VIEWED_EVENT } from '../decisions/exposures.ts';
import type { Clock, Logger } from '../ports.ts';
import type { ProfileRecord } from '../profiles/types.ts';
import type { Store, StoredEvent } from '../store.ts';

export const ACCESS_PAGE_KIND = 'access-export-page';
const PAGE = 1000;

/** Progress of a background access export, on its request. */
export interface AccessProgress {
  phase: 'queued' | 'profile' | 'events' | 'done' | 'failed';
  events: number;
  /** Events the profile is known to hold (from its counters), for a percentage. */
  totalEvents: number;
  pages: number;
  error?: string;
}

/** The export without its events (they are kept in pages). */
export interface AccessSummary {
  profile: { id: string; createdAt: string; updatedAt: string; traits: Record<string, unknown>; computed: unknown };
  identities: Array<{ type: string; value: string; firstSeen: string }>;
  audiences: Array<{ id: string; since: string }>;
  consent: ProfileRecord['consent'] | null;
  /** Experiments served (variant kept per experiment) and offers shown. */
  decisions: { experiments: Record<string, { variant: string; at: string }>; offers: Record<string, unknown> };
}

export interface AccessDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  summarize: (p: ProfileRecord) => unknown;
}

/**
 * Collects everything held about a profile, page by page, reporting progress through
 * `report` after each page; events are written as pages of 1,000 so an export of any size never
 * sits in one document.
 */
export async function collectAccessExport(
  deps: AccessDeps,
  requestId: string,
  profile: ProfileRecord,
  report: (progress: AccessProgress, summary?: AccessSummary) => Promise<void>,
): Promise<void> {
  const { store, clock } = deps;
  const totalEvents = Object.values(profile.computed.eventCounts).reduce((a, b) => a + b, 0);
  const progress: AccessProgress = { phase: 'profile', events: 0, totalEvents, pages: 0 };
  await report(progress);
  const identities = await store.listIdentities(profile.id);
  const iso = (ms: number) => new Date(ms).toISOString();
  const summary: AccessSummary = {
    profile: { id: profile.id, createdAt: iso(profile.createdAt), updatedAt: iso(profile.updatedAt), traits: profile.traits, computed: deps.summarize(profile) },
    identities: identities.map((i) => ({ type: i.type, value: i.value, firstSeen: iso(i.firstSeen) })),
    audiences: Object.entries(profile.audiences).map(([id, since]) => ({ id, since: iso(since) })),
    consent: profile.consent ?? null,
    decisions: {
      experiments: Object.fromEntries(Object.entries(profile.experiments ?? {}).map(([id, a]) => [id, { variant: a.variant, at: iso(a.at) }])),
      offers: profile.offerImpressions ?? {},
    },
  };
  progress.phase = 'events';
  await report(progress, summary);
  let cursor: string | undefined;
  for (;;) {
    const page = await store.queryEvents({ profileId: profile.id, limit: PAGE, ...(cursor ? { cursor } : {}) });
    if (page.events.length > 0) {
      await store.docs.put(ACCESS_PAGE_KIND, `${requestId}:${progress.pages}`, page.events.map(eventRow), 0, clock.now());
      progress.pages++;
      progress.events += page.events.length;
      await report(progress);
    }
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  progress.phase = 'done';
  await report(progress);
}

export interface AccessEventRow {
  messageId: string;
  type: string;
  name: string;
  timestamp: string;
  receivedAt: string;
  /** Set for decisions served (exposures, offer views). */
  decision: boolean;
  message: unknown;
}

function eventRow(e: StoredEvent): AccessEventRow {
  return {
    messageId: e.messageId,
    type: e.type,
    name: e.name,
    timestamp: new Date(e.timestamp).toISOString(),
    receivedAt: new Date(e.receivedAt).toISOString(),
    decision: e.name === EXPOSURE_EVENT || e.name === OFFER_VIEWED_EVENT,
    message: e.message,
  };
}

/** The export's pages of events, in order. */
export async function* accessEventPages(store: Store, requestId: string, pages: number): AsyncGenerator<AccessEventRow[]> {
  for (let i = 0; i < pages; i++) yield ((await store.docs.get(ACCESS_PAGE_KIND, `${requestId}:${i}`))?.body as AccessEventRow[] | undefined) ?? [];
}

const CSV_HEADER = 'record,id,name,time,data';

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) || /^[=+\-@\t]/.test(v) ? `"${(/^[=+\-@\t]/.test(v) ? `'${v}` : v).replaceAll('"', '""')}"` : v;
}

/** One CSV for the whole export: a row per record (profile, identity, audience, consent, decision, event). */
export async function* accessCsv(summary: AccessSummary, pages: AsyncIterable<AccessEventRow[]>): AsyncGenerator<string> {
  const row = (record: string, id: string, name: string, time: string, data: unknown) =>
    `${[record, id, name, time, data === undefined ? '' : JSON.stringify(data)].map(csvCell).join(',')}\n`;
  yield `${CSV_HEADER}\n`;
  yield row('profile', summary.profile.id, '', summary.profile.updatedAt, { traits: summary.profile.traits, computed: summary.profile.computed, createdAt: summary.profile.createdAt });
  for (const i of summary.identities) yield row('identity', i.value, i.type, i.firstSeen, undefined);
  for (const a of summary.audiences) yield row('audience', a.id, '', a.since, undefined);
  for (const c of summary.consent?.history ?? []) yield row('consent', c.source, '', new Date(c.at).toISOString(), c.purposes);
  for (const [id, x] of Object.entries(summary.decisions.experiments)) yield row('decision', id, x.variant, x.at, undefined);
  for await (const page of pages) for (const e of page) yield row('event', e.messageId, e.name, e.timestamp, e.message);
}
