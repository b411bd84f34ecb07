import { compare, matchesGlob } from '../conditions/evaluate.ts';
import type { FilterOp } from '../conditions/types.ts';
import type { DecisionTable, TableCell, TableOutput } from '../protocol/decisions.ts';

/** One row's outcome, for the explain trace. */
export interface RuleTrace {
  row: number;
  matched: boolean;
  /** The input values the row saw, by input id. */
  inputs: Record<string, unknown>;
}

export type TableResult =
  | { ok: true; outputs: TableOutput[]; matchedRows: number[]; usedDefault: boolean; rules: RuleTrace[] }
  | { ok: false; error: string; matchedRows: number[]; rules: RuleTrace[] };

/** Reads a dotted path (`a.b.0.c`) from a value; missing is `undefined`. */
export function readPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (!Object.hasOwn(cur as object, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

export function cellMatches(cell: TableCell, actual: unknown): boolean {
  if (cell === '-') return true;
  if (cell.op === 'matches') return matchesGlob(actual, cell.value);
  return compare(actual, cell.op as FilterOp, cell.value);
}

/**
 * Evaluates a DMN-style decision table over `inputs` (values by input id) with its hit policy:
 * - `first`: the first matching row, in order;
 * - `unique`: exactly one row may match; two or more is an error (the caller falls back);
 * - `priority`: the matching row with the highest `priority` (ties: the earlier row);
 * - `collect`: every matching row's output, in order.
 * No match gives the table's `default` when it has one, else no output.
 */
export function evaluateTable(table: DecisionTable, inputs: Record<string, unknown>, trace = false): TableResult {
  const matchedRows: number[] = [];
  const rules: RuleTrace[] = [];
  for (let row = 0; row < table.rules.length; row++) {
    const rule = table.rules[row] as DecisionTable['rules'][number];
    let matched = true;
    for (const key in rule.when) {
      if (!cellMatches(rule.when[key] as TableCell, inputs[key])) {
        matched = false;
        break;
      }
    }
    if (trace) {
      const seen: Record<string, unknown> = {};
      for (const key in rule.when) seen[key] = inputs[key] ?? null;
      rules.push({ row, matched, inputs: seen });
    }
    if (matched) {
      matchedRows.push(row);
      if (table.hitPolicy === 'first') break;
    }
  }
  if (matchedRows.length === 0) {
    return { ok: true, outputs: table.default ? [table.default] : [], matchedRows, usedDefault: table.default !== undefined, rules };
  }
  switch (table.hitPolicy) {
    case 'first':
      return { ok: true, outputs: [(table.rules[matchedRows[0] as number] as DecisionTable['rules'][number]).then], matchedRows, usedDefault: false, rules };
    case 'unique':
      if (matchedRows.length > 1) {
        return { ok: false, error: `hit policy "unique" but rows ${matchedRows.join(', ')} all match`, matchedRows, rules };
      }
      return { ok: true, outputs: [(table.rules[matchedRows[0] as number] as DecisionTable['rules'][number]).then], matchedRows, usedDefault: false, rules };
    case 'priority': {
      let best = matchedRows[0] as number;
      for (const row of matchedRows) {
        if ((table.rules[row]?.priority ?? 0) > (table.rules[best]?.priority ?? 0)) best = row;
      }
      return { ok: true, outputs: [(table.rules[best] as DecisionTable['rules'][number]).then], matchedRows: [best], usedDefault: false, rules };
    }
    case 'collect':
      return { ok: true, outputs: matchedRows.map((r) => (table.rules[r] as DecisionTable['rules'][number]).then), matchedRows, usedDefault: false, rules };
  }
}
