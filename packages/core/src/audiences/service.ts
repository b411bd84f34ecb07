import type { Condition } from '../conditions/types.ts';
import { validateCondition } from '../conditions/validate.ts';
import { AttuneError } from '../errors.ts';
import { eventName, requestContextOf } from '../ingest/group.ts';
import type { Clock, Logger } from '../ports.ts';
import {
  type AudienceInput,
  audienceInputSchema,
  type SegmentGroupInput,
  segmentGroupInputSchema,
} from '../protocol/audiences.ts';
import { parseOrThrow } from '../protocol/parse.ts';
import type { ConfigDocument, Store, StoredEvent } from '../store.ts';
import { applyAudiences, persistAudienceWrites } from './apply.ts';
import { type AudienceDefinition, type CompiledAudiences, compileAudiences, NO_AUDIENCES } from './compiled.ts';
import { prune, recordInCounters } from './counters.ts';
import { recomputeSetBased } from './recompute.ts';

export const SEGMENT_GROUP_KIND = 'segment-group';
export const AUDIENCE_KIND = 'audience';

export interface SegmentGroupView extends SegmentGroupInput {
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface AudienceView extends AudienceDefinition {
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface RecomputeStatus {
  state: 'idle' | 'running' | 'done' | 'failed';
  processed: number;
  total: number;
  /** Audience definitions version the run brings profiles to. */
  version: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: string;
}

export interface AudienceService {
  /** The audiences in force, as ingestion evaluates them. */
  compiled(): CompiledAudiences;
  /** Reloads definitions from the store (another node may have changed them). */
  reload(): Promise<void>;
  listGroups(): Promise<SegmentGroupView[]>;
  getGroup(id: string): Promise<SegmentGroupView>;
  createGroup(input: unknown): Promise<SegmentGroupView>;
  updateGroup(id: string, input: unknown, version: number): Promise<SegmentGroupView>;
  deleteGroup(id: string): Promise<void>;
  listAudiences(): Promise<AudienceView[]>;
  getAudience(id: string): Promise<AudienceView>;
  createAudience(input: unknown): Promise<AudienceView>;
  updateAudience(id: string, input: unknown, version: number): Promise<AudienceView>;
  deleteAudience(id: string): Promise<void>;
  /** Checks the profiles whose next audience change is due (timed exits); returns how many. */
  runDueChecks(now?: number): Promise<number>;
  /** Rebuilds every profile's counters from its history and re-evaluates membership. */
  recompute(): Promise<RecomputeStatus>;
  recomputeStatus(): RecomputeStatus;
  /** How many profiles match a condition now, and up to `examples` of them, without saving it. */
  preview(condition: unknown, examples?: number): Promise<{ matching: number; scanned: number; examples: string[] }>;
}

interface ServiceOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
}

const CHUNK = 200;

export function createAudienceService({ store, clock, logger }: ServiceOptions): AudienceService {
  let compiled: CompiledAudiences = NO_AUDIENCES;
  let status: RecomputeStatus = { state: 'idle', processed: 0, total: 0, version: 'none', startedAt: null, finishedAt: null };
  let running: Promise<RecomputeStatus> | null = null;
  let again = false;

  const iso = (t: number) => new Date(t).toISOString();
  const groupView = (d: ConfigDocument): SegmentGroupView => ({
    ...(d.body as SegmentGroupInput),
    version: d.version,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  });
  const audienceView = (d: ConfigDocument): AudienceView => ({
    ...(d.body as AudienceDefinition),
    version: d.version,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  });

  async function reload(): Promise<void> {
    const docs = await store.docs.list(AUDIENCE_KIND);
    const version = docs.map((d) => `${d.id}@${d.version}`).join(',') || 'none';
    if (version !== compiled.version) compiled = compileAudiences(docs.map((d) => d.body as AudienceDefinition), version);
  }

  const parse = parseOrThrow;

  function immutableId(pathId: string, bodyId: unknown, what: string): void {
    if (bodyId !== undefined && bodyId !== pathId) {
      throw new AttuneError('VALIDATION', `id: the identifier of a ${what} cannot be changed once created (it is "${pathId}")`, {
        issues: [{ path: 'id', message: `cannot be changed once created; it is "${pathId}"` }],
      });
    }
  }

  async function checkAudience(input: AudienceInput): Promise<AudienceDefinition> {
    if (!(await store.docs.get(SEGMENT_GROUP_KIND, input.groupId))) {
      throw new AttuneError('VALIDATION', `groupId: no segment group "${input.groupId}"`, {
        issues: [{ path: 'groupId', message: `no segment group "${input.groupId}"` }],
      });
    }
    const others = new Map(
      (await store.docs.list(AUDIENCE_KIND)).filter((d) => d.id !== input.id).map((d) => [d.id, (d.body as AudienceDefinition).condition]),
    );
    const result = validateCondition(input.condition, { selfId: input.id, resolveAudience: (id) => others.get(id) });
    if (!result.ok) {
      const issues = result.issues.map((i) => ({ path: i.path === '(root)' ? 'condition' : `condition.${i.path}`, message: i.message }));
      throw new AttuneError('VALIDATION', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
    }
    return {
      id: input.id,
      groupId: input.groupId,
      name: input.name,
      ...(input.description !== undefined ? { description: input.description } : {}),
      condition: result.condition,
    };
  }

  function conflict(kind: string, id: string, version: number): AttuneError {
    return new AttuneError('CONFLICT', `${kind} "${id}" is not at version ${version}: read it again and retry`);
  }

  async function changed(): Promise<void> {
    await reload();
    void service.recompute();
  }

  /**
   * Events that can feed the audiences' counters, for a chunk of profiles in one read: only the
   * events the counters ask about, unless some audience reads the request context (then all).
   */
  function historyOf(ids: string[], target: CompiledAudiences) {
    const names = target.usesContext ? null : [...new Set(target.specs.map((s) => s.event))].sort();
    if (names !== null && names.length === 0) return Promise.resolve(new Map<string, StoredEvent[]>());
    return store.historyOf(ids, names);
  }

  /** Today's chunked path: each chunk's profiles locked, their whole history read and replayed into counters. */
  async function recomputeFromHistory(target: CompiledAudiences): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const ids = await store.profileIds(after, CHUNK);
      if (ids.length === 0) break;
      after = ids[ids.length - 1] as string;
      await store.transaction(async (tx) => {
        const profiles = await tx.getProfiles(ids);
        const now = clock.now();
        // The profile rows are locked: no event of theirs can commit while their history is read.
        const histories = await historyOf([...profiles.keys()], target);
        for (const p of profiles.values()) {
          p.counters = {};
          for (const e of histories.get(p.id) ?? []) {
            if (e.type !== 'track' && e.type !== 'page' && e.type !== 'screen') continue;
            const ctx = e.message.context;
            if (target.usesContext && (ctx.page !== undefined || ctx.campaign !== undefined || ctx.location !== undefined)) {
              p.lastContext = requestContextOf(ctx);
            }
            const properties = ((e.message as { properties?: Record<string, unknown> }).properties ?? {}) as Record<string, unknown>;
            recordInCounters(p.counters, target.specs, { name: e.name || eventName(e.message), timestamp: e.timestamp, properties }, now);
          }
        }
        const writes = applyAudiences(profiles.values(), target, now);
        await tx.putProfiles([...profiles.values()]);
        await persistAudienceWrites(tx, writes, { events: true });
      });
      status = { ...status, processed: status.processed + ids.length };
    }
  }

  const service: AudienceService = {
    compiled: () => compiled,
    reload,
    async listGroups() {
      return (await store.docs.list(SEGMENT_GROUP_KIND)).map(groupView);
    },
    async getGroup(id) {
      const d = await store.docs.get(SEGMENT_GROUP_KIND, id);
      if (!d) throw new AttuneError('NOT_FOUND', `no segment group "${id}"`);
      return groupView(d);
    },
    async createGroup(input) {
      const g = parse(segmentGroupInputSchema, input);
      const d = await store.docs.put(SEGMENT_GROUP_KIND, g.id, g, 0, clock.now());
      if (!d) throw new AttuneError('CONFLICT', `segment group "${g.id}" already exists`);
      return groupView(d);
    },
    async updateGroup(id, input, version) {
      immutableId(id, (input as { id?: unknown } | null)?.id, 'segment group');
      const g = parse(segmentGroupInputSchema, { ...(input as object), id });
      if (!(await store.docs.get(SEGMENT_GROUP_KIND, id))) throw new AttuneError('NOT_FOUND', `no segment group "${id}"`);
      const d = await store.docs.put(SEGMENT_GROUP_KIND, id, g, version, clock.now());
      if (!d) throw conflict('segment group', id, version);
      return groupView(d);
    },
    async deleteGroup(id) {
      const used = (await store.docs.list(AUDIENCE_KIND)).filter((d) => (d.body as AudienceDefinition).groupId === id);
      if (used.length > 0) {
        throw new AttuneError('CONFLICT', `segment group "${id}" still holds audiences: ${used.map((d) => d.id).join(', ')}`);
      }
      if (!(await store.docs.delete(SEGMENT_GROUP_KIND, id))) throw new AttuneError('NOT_FOUND', `no segment group "${id}"`);
    },
    async listAudiences() {
      return (await store.docs.list(AUDIENCE_KIND)).map(audienceView);
    },
    async getAudience(id) {
      const d = await store.docs.get(AUDIENCE_KIND, id);
      if (!d) throw new AttuneError('NOT_FOUND', `no audience "${id}"`);
      return audienceView(d);
    },
    async createAudience(input) {
      const def = await checkAudience(parse(audienceInputSchema, input));
      const d = await store.docs.put(AUDIENCE_KIND, def.id, def, 0, clock.now());
      if (!d) throw new AttuneError('CONFLICT', `audience "${def.id}" already exists`);
      await changed();
      return audienceView(d);
    },
    async updateAudience(id, input, version) {
      immutableId(id, (input as { id?: unknown } | null)?.id, 'audience');
      if (!(await store.docs.get(AUDIENCE_KIND, id))) throw new AttuneError('NOT_FOUND', `no audience "${id}"`);
      const def = await checkAudience(parse(audienceInputSchema, { ...(input as object), id }));
      const d = await store.docs.put(AUDIENCE_KIND, id, def, version, clock.now());
      if (!d) throw conflict('audience', id, version);
      await changed();
      return audienceView(d);
    },
    async deleteAudience(id) {
      const dependents = (await store.docs.list(AUDIENCE_KIND)).filter((d) =>
        JSON.stringify((d.body as AudienceDefinition).condition).includes(`"in_audience":${JSON.stringify(id)}`),
      );
      if (dependents.length > 0) {
        throw new AttuneError('CONFLICT', `audience "${id}" is used by: ${dependents.map((d) => d.id).join(', ')}`);
      }
      if (!(await store.docs.delete(AUDIENCE_KIND, id))) throw new AttuneError('NOT_FOUND', `no audience "${id}"`);
      await changed();
    },
    async runDueChecks(now = clock.now()) {
      let checked = 0;
      for (;;) {
        const due = await store.dueChecks(now, CHUNK);
        if (due.length === 0) return checked;
        const dueAt = new Map(due.map((d) => [d.profileId, d.at]));
        await store.transaction(async (tx) => {
          const profiles = await tx.getProfiles([...dueAt.keys()].sort());
          const current = compiled;
          for (const p of profiles.values()) {
            for (const spec of current.specs) {
              const state = p.counters[spec.key];
              if (state) prune(state, spec, now);
            }
          }
          const writes = applyAudiences(profiles.values(), current, now, (p) => Math.min(now, dueAt.get(p.id) ?? now));
          // Every due row is rewritten (or cleared for profiles gone since), so none stays due.
          const written = new Set(writes.checks.map((c) => c.profileId));
          for (const id of dueAt.keys()) {
            if (!written.has(id)) writes.checks.push({ profileId: id, at: profiles.get(id)?.nextCheckAt ?? null });
          }
          await tx.putProfiles([...profiles.values()]);
          await persistAudienceWrites(tx, writes, { events: true });
        });
        checked += due.length;
        if (due.length < CHUNK) return checked;
      }
    },
    recompute() {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          const target = compiled;
          status = { state: 'running', processed: 0, total: await store.countProfiles(), version: target.version, startedAt: iso(clock.now()), finishedAt: null };
          try {
            // Context audiences need each profile's latest request context: only the history path rebuilds it.
            if (!target.usesContext) {
              await recomputeSetBased(store, target, clock.now(), (checked) => {
                status = { ...status, processed: Math.min(checked, status.total) };
              });
              // Profiles left out as blank were decided without being read.
              status = { ...status, processed: status.total };
            } else await recomputeFromHistory(target);
            status = { ...status, state: 'done', finishedAt: iso(clock.now()) };
          } catch (error) {
            logger.error({ err: String(error) }, 'audience recompute failed');
            status = { ...status, state: 'failed', finishedAt: iso(clock.now()), error: String(error) };
          }
        } while (again);
        running = null;
        return status;
      })();
      return running;
    },
    recomputeStatus: () => status,
    async preview(input, examples = 20) {
      const result = validateCondition(input);
      if (!result.ok) {
        throw new AttuneError('VALIDATION', `${result.issues[0]?.path}: ${result.issues[0]?.message}`, { issues: result.issues });
      }
      const probe = compileAudiences(
        [{ id: '$preview', groupId: '$preview', name: 'preview', condition: result.condition as Condition }],
        'preview',
      );
      let matching = 0;
      let scanned = 0;
      const found: string[] = [];
      let after: string | null = null;
      const now = clock.now();
      for (;;) {
        const ids = await store.profileIds(after, CHUNK);
        if (ids.length === 0) break;
        after = ids[ids.length - 1] as string;
        const histories = await historyOf(ids, probe);
        for (const id of ids) {
          const p = await store.getProfile(id);
          if (!p || p.mergedInto) continue;
          scanned++;
          const counters = {};
          for (const e of histories.get(id) ?? []) {
            const properties = ((e.message as { properties?: Record<string, unknown> }).properties ?? {}) as Record<string, unknown>;
            recordInCounters(counters, probe.specs, { name: e.name, timestamp: e.timestamp, properties }, now);
          }
          const outcome = applyAudiences([{ ...p, counters, audiences: {} }], probe, now);
          if (outcome.memberships.some((m) => m.since !== null)) {
            matching++;
            if (found.length < examples) found.push(id);
          }
        }
      }
      return { matching, scanned, examples: found };
    },
  };
  return service;
}

