import { formatPath, type Issue } from '../errors.ts';
import { LIMITS } from './limits.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a parsed JSON value before schema validation: nesting depth, keys that could
 * pollute prototypes, non-finite numbers, and strings no store can keep (NUL, unpaired
 * surrogates). Returns every problem with its path, up to `maxIssues`. The walk keeps one
 * path stack and formats a path only for a problem: this runs on every ingested call.
 */
export function inspectJson(
  value: unknown,
  basePath: ReadonlyArray<PropertyKey> = [],
  maxDepth: number = LIMITS.maxDepth,
  maxIssues = 20,
): Issue[] {
  return inspectJsonSized(value, basePath, maxDepth, maxIssues).issues;
}

/**
 * inspectJson, plus an upper bound of the value's JSON size in UTF-8 bytes (every character
 * counted as a 6-byte escape), so callers need the exact size only for large values.
 */
export function inspectJsonSized(
  value: unknown,
  basePath: ReadonlyArray<PropertyKey> = [],
  maxDepth: number = LIMITS.maxDepth,
  maxIssues = 20,
): { issues: Issue[]; maxBytes: number } {
  const issues: Issue[] = [];
  let maxBytes = 0;
  const path: PropertyKey[] = [...basePath];
  const report = (message: string) => {
    if (issues.length < maxIssues) issues.push({ path: formatPath(path), message });
  };
  // Recursion is bounded by maxDepth, so hostile nesting cannot overflow the stack.
  const walk = (v: unknown, depth: number): void => {
    if (issues.length >= maxIssues) return;
    if (typeof v === 'string') {
      maxBytes += v.length * 6 + 3;
      if (!isCleanString(v)) report(stringProblem(v) as string);
      return;
    }
    if (typeof v === 'number') {
      maxBytes += 25;
      if (!Number.isFinite(v)) report('number is not finite');
      return;
    }
    maxBytes += 6;
    if (v === null || typeof v !== 'object') return;
    if (depth >= maxDepth) {
      report(`nested deeper than ${maxDepth} levels`);
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        walk(v[i], depth + 1);
        path.pop();
      }
      return;
    }
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue;
      path.push(key);
      maxBytes += key.length * 6 + 4;
      if (FORBIDDEN_KEYS.has(key)) report(`key "${key}" is not allowed`);
      else if (!isCleanString(key)) report(`key: ${stringProblem(key)}`);
      else walk((v as Record<string, unknown>)[key], depth + 1);
      path.pop();
    }
  };
  walk(value, 0);
  return { issues, maxBytes };
}

// Matches NUL and any surrogate; a hit is examined closely by stringProblem.
const SUSPECT = /[\u0000\ud800-\udfff]/;

function isCleanString(s: string): boolean {
  return !SUSPECT.test(s) || stringProblem(s) === null;
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
