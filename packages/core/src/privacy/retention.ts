import { z } from 'zod';
import { AttuneError } from '../errors.ts';
import type { Clock } from '../ports.ts';
import { zodIssues } from '../protocol/parse.ts';
import type { Store } from '../store.ts';

const DAY = 24 * 3600_000;

export const retentionPolicySchema = z
  .object({
    /** Days an event of this name is kept, by event name (`Page Viewed`, `Product Viewed`). */
    events: z.record(z.string().min(1).max(200), z.number().int().min(1).max(36_500)).default({}),
    /** Days of inactivity after which a profile known only by anonymous ids is erased (e.g. 396 ≈ 13 months). */
    anonymousProfilesInactiveDays: z.number().int().min(1).max(36_500).optional(),
    /** Most items one run lists (and deletes); the next run takes the rest. */
    maxItems: z.number().int().min(1).max(1_000_000).default(100_000),
  })
  .strict();

export type RetentionPolicyInput = z.input<typeof retentionPolicySchema>;
export type RetentionPolicy = z.output<typeof retentionPolicySchema>;

export function parseRetentionPolicy(input: unknown): RetentionPolicy {
  const r = retentionPolicySchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issues = zodIssues(r.error).map((i) => ({ ...i, path: `retention.${i.path}` }));
  throw new AttuneError('VALIDATION', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
}

/** A dry run: exactly what applying it deletes (nothing else, even if more expired since). */
export interface RetentionPlan {
  id: string;
  createdAt: string;
  /** The cut-offs the plan was made with, per rule. */
  cutoffs: { events: Record<string, string>; anonymousProfiles: string | null };
  events: Array<{ profileId: string; messageId: string; name: string; timestamp: string }>;
  profiles: string[];
}

export interface RetentionResult {
  planId: string;
  deletedEvents: number;
  erasedProfiles: number;
  /** Listed profiles active again since the dry run: kept. */
  skippedProfiles: string[];
}

export const RETENTION_PLAN_KIND = 'retention-plan';

export interface RetentionDeps {
  store: Store;
  clock: Clock;
  newId: () => string;
  /** Erases a profile without suppressing its identifiers (it expired; it was not asked to be forgotten). */
  eraseExpired: (profileId: string) => Promise<boolean>;
}

export function createRetention(policy: RetentionPolicy, deps: RetentionDeps) {
  const { store, clock } = deps;
  const retention = {
    policy,
    /** The dry run: lists what the policy removes now, and keeps the list to apply it later. */
    async plan(): Promise<RetentionPlan> {
      const now = clock.now();
      const plan: RetentionPlan = { id: `rp_${deps.newId()}`, createdAt: new Date(now).toISOString(), cutoffs: { events: {}, anonymousProfiles: null }, events: [], profiles: [] };
      let budget = policy.maxItems;
      for (const [name, days] of Object.entries(policy.events).sort()) {
        const before = now - days * DAY;
        plan.cutoffs.events[name] = new Date(before).toISOString();
        if (budget <= 0) break;
        const found = await store.expiredEvents(name, before, budget);
        for (const e of found) plan.events.push({ profileId: e.profileId, messageId: e.messageId, name, timestamp: new Date(e.timestamp).toISOString() });
        budget -= found.length;
      }
      if (policy.anonymousProfilesInactiveDays !== undefined) {
        const before = now - policy.anonymousProfilesInactiveDays * DAY;
        plan.cutoffs.anonymousProfiles = new Date(before).toISOString();
        if (budget > 0) plan.profiles = await store.inactiveAnonymousProfiles(before, budget);
      }
      await store.docs.put(RETENTION_PLAN_KIND, plan.id, plan, 0, now);
      return plan;
    },
    async getPlan(id: string): Promise<RetentionPlan | null> {
      return ((await store.docs.get(RETENTION_PLAN_KIND, id))?.body as RetentionPlan | undefined) ?? null;
    },
    /**
     * Deletes exactly what the plan listed: its events, and its profiles unless one was active
     * again since the dry run (it is kept and reported).
     */
    async apply(planId: string): Promise<RetentionResult> {
      const doc = await store.docs.get(RETENTION_PLAN_KIND, planId);
      if (!doc) throw new AttuneError('NOT_FOUND', `no retention plan ${planId}`);
      const plan = doc.body as RetentionPlan & { appliedAt?: string };
      if (plan.appliedAt) throw new AttuneError('CONFLICT', `retention plan ${planId} was applied at ${plan.appliedAt}`);
      const result: RetentionResult = { planId, deletedEvents: 0, erasedProfiles: 0, skippedProfiles: [] };
      for (let i = 0; i < plan.events.length; i += 1000) {
        const chunk = plan.events.slice(i, i + 1000);
        result.deletedEvents += await store.transaction((tx) => tx.deleteEvents(chunk));
      }
      const cutoff = plan.cutoffs.anonymousProfiles === null ? null : Date.parse(plan.cutoffs.anonymousProfiles);
      for (const id of plan.profiles) {
        const p = await store.getProfile(id);
        if (!p || p.mergedInto || cutoff === null || p.updatedAt >= cutoff) {
          result.skippedProfiles.push(id);
          continue;
        }
        if (await deps.eraseExpired(id)) result.erasedProfiles++;
      }
      await store.docs.put(RETENTION_PLAN_KIND, planId, { ...plan, appliedAt: new Date(clock.now()).toISOString(), result }, doc.version, clock.now());
      return result;
    },
    /** The scheduled job: a dry run, then applying exactly it. */
    async run(): Promise<{ plan: RetentionPlan; result: RetentionResult }> {
      const plan = await retention.plan();
      return { plan, result: await retention.apply(plan.id) };
    },
  };
  return retention;
}

export type Retention = ReturnType<typeof createRetention>;
