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
  const walk: Walk = { issues: [], maxBytes: 0, path: [...basePath], maxDepth, maxIssues };
  walkValue(walk, value, 0);
  return { issues: walk.issues, maxBytes: walk.maxBytes };
}

interface Walk {
  issues: Issue[];
  maxBytes: number;
  /** The path of the value being visited, pushed and popped as the walk goes. */
  path: PropertyKey[];
  maxDepth: number;
  maxIssues: number;
}

function report(walk: Walk, message: string): void {
  if (walk.issues.length < walk.maxIssues) walk.issues.push({ path: formatPath(walk.path), message });
}

// Recursion is bounded by maxDepth, so hostile nesting cannot overflow the stack.
function walkValue(walk: Walk, v: unknown, depth: number): void {
  if (walk.issues.length >= walk.maxIssues) return;
  if (typeof v === 'string') {
    walk.maxBytes += v.length * 6 + 3;
    if (!isCleanString(v)) report(walk, stringProblem(v) as string);
    return;
  }
  if (typeof v === 'number') {
    walk.maxBytes += 25;
    if (!Number.isFinite(v)) report(walk, 'number is not finite');
    return;
  }
  walk.maxBytes += 6;
  if (v === null || typeof v !== 'object') return;
  if (depth >= walk.maxDepth) {
    report(walk, `nested deeper than ${walk.maxDepth} levels`);
    return;
  }
  const path = walk.path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      walkValue(walk, v[i], depth + 1);
      path.pop();
    }
    return;
  }
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    path.push(key);
    walk.maxBytes += key.length * 6 + 4;
    if (FORBIDDEN_KEYS.has(key)) report(walk, `key "${key}" is not allowed`);
    else if (!isCleanString(key)) report(walk, `key: ${stringProblem(key)}`);
    else walkValue(walk, (v as Record<string, unknown>)[key], depth + 1);
    path.pop();
  }
}

// Matches NUL and any surrogate; a hit is examined closely by stringProblem.
const SUSPECT = /[\u0000\ud800-\udfff]/;

// Where the runtime has it (Node 20+, current browsers), the native well-formedness check is
// about three times faster than the regex; this runs on every string of every ingested call.
// (Typed locally: the packages' TypeScript lib is ES2023.)
type WellFormed = { isWellFormed(): boolean };
const hasIsWellFormed = typeof (String.prototype as Partial<WellFormed>).isWellFormed === 'function';

function isCleanString(s: string): boolean {
  if (hasIsWellFormed) return ((s as unknown as WellFormed).isWellFormed() && !s.includes('\u0000')) || stringProblem(s) === null;
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
