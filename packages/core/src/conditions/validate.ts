import { z } from 'zod';
import { formatPath, type Issue } from '../errors.ts';
import { zodIssues } from '../protocol/parse.ts';
import type { Condition } from './types.ts';

export interface ConditionLimits {
  /** Deepest nesting of all / any / not. */
  maxDepth: number;
  /** Most nodes in one condition. */
  maxNodes: number;
  /** Longest window, in days. */
  maxWindowDays: number;
  /** Most values in an `in` / `not_in` list. */
  maxListSize: number;
}

export const DEFAULT_CONDITION_LIMITS: ConditionLimits = {
  maxDepth: 8,
  maxNodes: 64,
  maxWindowDays: 730,
  maxListSize: 500,
};

export interface ValidateConditionOptions {
  limits?: Partial<ConditionLimits>;
  /** The audience being defined, so a reference back to it is seen as a cycle. */
  selfId?: string;
  /** Conditions of other audiences, to follow `in_audience` and reject cycles and unknown ids. */
  resolveAudience?: (id: string) => Condition | undefined;
}

export type ValidateConditionResult = { ok: true; condition: Condition } | { ok: false; issues: Issue[] };

const FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'starts_with', 'exists'] as const;
const CONTEXT_FIELDS = [
  'page.url', 'page.path', 'page.referrer', 'utm.source', 'utm.medium', 'utm.campaign', 'utm.term', 'utm.content',
  'geo.country', 'geo.region', 'geo.city', 'device.type', 'browser', 'time.hour', 'time.day_of_week', 'visitor.new',
] as const;

const name = z.string().min(1).max(200);
const path = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^.\s][^\s]*$/, 'must be a property path such as "category" or "products.0.price"')
  .refine((p) => !p.split('.').some((s) => s === '' || s === '__proto__' || s === 'constructor' || s === 'prototype'), {
    message: 'has an empty or forbidden segment',
  });
const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string().max(2000), z.number().finite(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);
const iso = z.string().refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO-8601 date-time');
const duration = z
  .object({
    minutes: z.number().int().positive().optional(),
    hours: z.number().int().positive().optional(),
    days: z.number().int().positive().optional(),
  })
  .strict()
  .refine((d) => d.minutes !== undefined || d.hours !== undefined || d.days !== undefined, 'give minutes, hours or days');
const window = z.union([
  z.literal('ever'),
  z.object({ last: duration }).strict(),
  z
    .object({ between: z.object({ from: iso, to: iso }).strict() })
    .strict()
    .refine((w) => Date.parse(w.between.from) < Date.parse(w.between.to), {
      message: '"from" must be before "to"',
      path: ['between', 'to'],
    }),
]);

function opValue<T extends z.ZodRawShape>(ops: readonly [string, ...string[]], shape: T) {
  return z
    .object({ ...shape, op: z.enum(ops), value: jsonValue.optional() })
    .strict()
    .superRefine((f, ctx) => {
      const { op, value } = f as { op: string; value?: unknown };
      checkOperand(op, value, ctx);
    });
}

function checkOperand(op: string, value: unknown, ctx: z.RefinementCtx): void {
  const bad = (message: string) => ctx.addIssue({ code: 'custom', path: ['value'], message });
  switch (op) {
    case 'exists':
      if (value !== undefined && typeof value !== 'boolean') bad('exists takes true, false or no value');
      return;
    case 'in':
    case 'not_in':
      if (!Array.isArray(value)) bad(`${op} takes a list of values`);
      return;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof value !== 'number' && typeof value !== 'string') bad(`${op} compares with a number or a string`);
      return;
    case 'starts_with':
    case 'matches':
      if (typeof value !== 'string') bad(`${op} takes a string`);
      return;
    default:
      if (value === undefined) bad(`${op} needs a value`);
  }
}

const filter = opValue(FILTER_OPS, { property: path });
const filters = z.array(filter).max(32).optional();
const countSpec = z.object({ op: z.enum(['at_least', 'at_most', 'exactly']), value: z.number().int().min(0).max(1_000_000) }).strict();

const didSchema = z.object({ event: name, where: filters, count: countSpec.optional(), window: window.optional() }).strict();
const didNotSchema = z.object({ event: name, where: filters, window: window.optional() }).strict();
const traitPath = z
  .string()
  .regex(/^(traits|computed)\.[^\s]+$/, 'must start with "traits." or "computed."')
  .pipe(path);
const haveSchema = z.union([
  opValue(FILTER_OPS, { trait: traitPath }),
  opValue(FILTER_OPS, {
    aggregate: z
      .object({
        fn: z.enum(['sum', 'count', 'avg', 'min', 'max']),
        event: name,
        property: path.optional(),
        where: filters,
        window: window.optional(),
      })
      .strict()
      .refine((a) => a.fn === 'count' || a.property !== undefined, { message: 'sum, avg, min and max need a property', path: ['property'] }),
  }),
  opValue(FILTER_OPS, {
    top: z.object({ event: name, property: path, where: filters, window: window.optional() }).strict(),
  }),
]);
const contextSchema = opValue([...FILTER_OPS, 'matches'], { field: z.enum(CONTEXT_FIELDS) });

const KINDS = ['all', 'any', 'not', 'did', 'did_not', 'have', 'in_audience', 'context'] as const;

/**
 * Validates a condition: shape, operands, cost limits and audience references. Every problem
 * comes back with the path of its node, e.g. `all[2].did.window.last.days`.
 */
export function validateCondition(input: unknown, options: ValidateConditionOptions = {}): ValidateConditionResult {
  const limits = { ...DEFAULT_CONDITION_LIMITS, ...options.limits };
  const issues: Issue[] = [];
  let nodes = 0;
  const refs: Array<{ id: string; path: PropertyKey[] }> = [];

  const visit = (node: unknown, at: PropertyKey[], depth: number): void => {
    nodes++;
    if (nodes === limits.maxNodes + 1) issues.push({ path: formatPath(at), message: `the condition has more than ${limits.maxNodes} nodes` });
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      issues.push({ path: formatPath(at), message: `must be an object with one of: ${KINDS.join(', ')}` });
      return;
    }
    const keys = Object.keys(node);
    const kind = keys[0] as (typeof KINDS)[number];
    if (keys.length !== 1 || !KINDS.includes(kind)) {
      issues.push({ path: formatPath(at), message: `must have exactly one key, one of: ${KINDS.join(', ')} (got ${keys.join(', ') || 'none'})` });
      return;
    }
    const body = (node as Record<string, unknown>)[kind];
    const here = [...at, kind];
    const check = (schema: z.ZodType) => {
      const r = schema.safeParse(body);
      if (!r.success) issues.push(...zodIssues(r.error, here));
      return r.success ? (r.data as Record<string, unknown>) : undefined;
    };
    switch (kind) {
      case 'all':
      case 'any':
        if (!Array.isArray(body) || body.length === 0) {
          issues.push({ path: formatPath(here), message: 'must be a non-empty list of conditions' });
          return;
        }
        if (depth >= limits.maxDepth) {
          issues.push({ path: formatPath(here), message: `nested deeper than ${limits.maxDepth} levels` });
          return;
        }
        body.forEach((child, i) => visit(child, [...here, i], depth + 1));
        return;
      case 'not':
        if (depth >= limits.maxDepth) {
          issues.push({ path: formatPath(here), message: `nested deeper than ${limits.maxDepth} levels` });
          return;
        }
        visit(body, here, depth + 1);
        return;
      case 'did':
      case 'did_not': {
        const parsed = check(kind === 'did' ? didSchema : didNotSchema);
        if (parsed) checkWindowAndLists(parsed, here);
        return;
      }
      case 'have': {
        const parsed = check(haveSchema);
        if (parsed) {
          const inner = (parsed.aggregate ?? parsed.top) as Record<string, unknown> | undefined;
          if (inner) checkWindowAndLists(inner, [...here, parsed.aggregate ? 'aggregate' : 'top']);
          checkList(parsed.value, [...here, 'value']);
        }
        return;
      }
      case 'context': {
        const parsed = check(contextSchema);
        if (parsed) checkList(parsed.value, [...here, 'value']);
        return;
      }
      case 'in_audience':
        if (typeof body !== 'string' || body === '') issues.push({ path: formatPath(here), message: 'must be an audience id' });
        else refs.push({ id: body, path: here });
        return;
    }
  };

  const checkList = (value: unknown, at: PropertyKey[]) => {
    if (Array.isArray(value) && value.length > limits.maxListSize) {
      issues.push({ path: formatPath(at), message: `lists hold at most ${limits.maxListSize} values` });
    }
  };
  const checkWindowAndLists = (body: Record<string, unknown>, at: PropertyKey[]) => {
    const w = body.window as { last?: { minutes?: number; hours?: number; days?: number } } | string | undefined;
    if (w && typeof w === 'object' && w.last) {
      const days = windowMs({ last: w.last }) / DAY_MS;
      if (days > limits.maxWindowDays) {
        issues.push({ path: formatPath([...at, 'window', 'last']), message: `windows are at most ${limits.maxWindowDays} days` });
      }
    }
    for (const [i, f] of ((body.where as Array<{ value?: unknown }> | undefined) ?? []).entries()) {
      checkList(f.value, [...at, 'where', i, 'value']);
    }
  };

  visit(input, [], 0);

  // Audience references: known, and no cycle back to this audience or among the others.
  for (const ref of refs) {
    if (ref.id === options.selfId) {
      issues.push({ path: formatPath(ref.path), message: `audience "${ref.id}" cannot include itself` });
      continue;
    }
    if (!options.resolveAudience) continue;
    const target = options.resolveAudience(ref.id);
    if (target === undefined) {
      issues.push({ path: formatPath(ref.path), message: `unknown audience "${ref.id}"` });
      continue;
    }
    const cycle = findCycle(ref.id, options.resolveAudience, options.selfId);
    if (cycle) issues.push({ path: formatPath(ref.path), message: `audience references form a cycle: ${cycle.join(' → ')}` });
  }

  return issues.length > 0 ? { ok: false, issues } : { ok: true, condition: input as Condition };
}

export const DAY_MS = 86_400_000;

export function windowMs(w: { last: { minutes?: number; hours?: number; days?: number } }): number {
  return ((w.last.days ?? 0) * 24 * 60 + (w.last.hours ?? 0) * 60 + (w.last.minutes ?? 0)) * 60_000;
}

/** Audience ids referenced by a condition, in order of appearance. */
export function audienceRefs(condition: Condition): string[] {
  const out: string[] = [];
  const walk = (c: Condition) => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('in_audience' in c) out.push(c.in_audience);
  };
  walk(condition);
  return out;
}

function findCycle(start: string, resolve: (id: string) => Condition | undefined, selfId: string | undefined): string[] | null {
  const stack: string[] = [];
  const done = new Set<string>();
  const dfs = (id: string): string[] | null => {
    if (id === selfId || stack.includes(id)) return [...stack, id];
    if (done.has(id)) return null;
    stack.push(id);
    const c = resolve(id);
    for (const next of c ? audienceRefs(c) : []) {
      const found = dfs(next);
      if (found) return found;
    }
    stack.pop();
    done.add(id);
    return null;
  };
  const cycle = dfs(start);
  return cycle ? (selfId ? [selfId, ...cycle] : cycle) : null;
}
