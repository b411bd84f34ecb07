import { formatPath, type Issue } from '../errors.ts';
import { LIMITS } from './limits.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a parsed JSON value before schema validation: nesting depth, keys that could
 * pollute prototypes, and strings no store can keep (NUL, unpaired surrogates). Returns
 * every problem with its path; stops collecting after `maxIssues`.
 */
export function inspectJson(
  value: unknown,
  basePath: ReadonlyArray<PropertyKey> = [],
  maxDepth: number = LIMITS.maxDepth,
  maxIssues = 20,
): Issue[] {
  const issues: Issue[] = [];
  const stack: Array<{ value: unknown; path: PropertyKey[]; depth: number }> = [
    { value, path: [...basePath], depth: 0 },
  ];
  while (stack.length > 0 && issues.length < maxIssues) {
    const item = stack.pop() as { value: unknown; path: PropertyKey[]; depth: number };
    const v = item.value;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) issues.push({ path: formatPath(item.path), message: problem });
      continue;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) issues.push({ path: formatPath(item.path), message: 'number is not finite' });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (item.depth >= maxDepth) {
      issues.push({ path: formatPath(item.path), message: `nested deeper than ${maxDepth} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...item.path, i], depth: item.depth + 1 });
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) {
        issues.push({ path: formatPath([...item.path, key]), message: `key "${key}" is not allowed` });
        continue;
      }
      const keyProblem = stringProblem(key);
      if (keyProblem) {
        issues.push({ path: formatPath([...item.path, key]), message: `key: ${keyProblem}` });
        continue;
      }
      stack.push({ value: (v as Record<string, unknown>)[key], path: [...item.path, key], depth: item.depth + 1 });
    }
  }
  return issues;
}

function stringProblem(s: string): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'contains a NUL character (\\u0000)';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return 'contains an unpaired UTF-16 surrogate';
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'contains an unpaired UTF-16 surrogate';
  }
  return null;
}
