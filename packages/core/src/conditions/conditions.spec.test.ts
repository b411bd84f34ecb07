import { describe, expect, it } from 'vitest';
import spec from '../../spec/conditions.json' with { type: 'json' };
import { evaluateCondition } from './evaluate.ts';
import type { Condition, ConditionSubject } from './types.ts';
import { validateCondition } from './validate.ts';

interface SpecCase {
  name: string;
  condition: unknown;
  now?: string;
  profile?: { traits: Record<string, unknown>; computed: Record<string, unknown> };
  events?: Array<{ name: string; timestamp: string; properties: Record<string, unknown> }>;
  context?: ConditionSubject['context'];
  memberOf?: string[];
  expected?: boolean;
  invalidPaths?: string[];
  audiences?: Record<string, Condition>;
  selfId?: string;
}

const cases = spec.cases as SpecCase[];

export function subjectOf(c: SpecCase): ConditionSubject {
  const members = new Set(c.memberOf ?? []);
  return {
    traits: c.profile?.traits ?? {},
    computed: c.profile?.computed ?? {},
    events: (c.events ?? []).map((e) => ({ name: e.name, timestamp: Date.parse(e.timestamp), properties: e.properties })),
    isMember: (id) => members.has(id),
    ...(c.context ? { context: c.context } : {}),
  };
}

describe('condition spec (spec/conditions.json)', () => {
  it('holds at least 150 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
  });

  it.each(cases.filter((c) => c.expected !== undefined).map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const validated = validateCondition(c.condition);
    expect(validated.ok ? [] : validated.issues).toEqual([]);
    const result = evaluateCondition(c.condition as Condition, subjectOf(c), Date.parse(c.now as string));
    expect(result).toBe(c.expected);
  });

  it.each(cases.filter((c) => c.invalidPaths !== undefined).map((c) => [c.name, c] as const))('invalid: %s', (_n, c) => {
    const audiences = c.audiences;
    const result = validateCondition(c.condition, {
      ...(c.selfId ? { selfId: c.selfId } : {}),
      ...(audiences ? { resolveAudience: (id: string) => audiences[id] } : {}),
    });
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.issues.map((i) => i.path);
    for (const p of c.invalidPaths ?? []) expect(paths).toContain(p);
  });
});
