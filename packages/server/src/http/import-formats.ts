import { AttuneError, type Issue, type RowError } from '@attune/core';
import { parse as parseCsv } from 'csv-parse/sync';

/**
 * Import bodies (JSON, NDJSON, CSV) turned into rows for the engine. Rows that cannot become
 * objects at all (a bad NDJSON line, a CSV cell that is not a number) are reported here; the
 * engine reports the rest, and `rowNumbers` maps its positions back to the file's rows.
 */
export interface ParsedRows {
  /** Rows in the submitted file (data rows for CSV, non-blank lines for NDJSON). */
  total: number;
  rows: unknown[];
  /** 1-based row number in the file of each entry of `rows`. */
  rowNumbers: number[];
  errors: RowError[];
}

export type ImportKind = 'records' | 'orders';

export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];
export const IMPORT_CONTENT_TYPES = ['application/json', ...NDJSON_TYPES, 'text/csv'];

function invalid(message: string, path = '(root)'): AttuneError {
  return new AttuneError('VALIDATION', message, { issues: [{ path, message }] });
}

export function parseJsonRows(value: unknown): ParsedRows {
  const rows = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? [value] : null;
  if (rows === null) throw invalid('send a JSON object or an array of objects');
  return { total: rows.length, rows, rowNumbers: rows.map((_, i) => i + 1), errors: [] };
}

export function parseNdjsonRows(text: string): ParsedRows {
  const out: ParsedRows = { total: 0, rows: [], rowNumbers: [], errors: [] };
  let start = 0;
  let line = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === '') continue;
    out.total++;
    try {
      out.rows.push(JSON.parse(raw));
      out.rowNumbers.push(line);
    } catch (error) {
      out.errors.push({ row: line, issues: [{ path: '(root)', message: `not valid JSON: ${(error as Error).message}` }] });
    }
  }
  return out;
}

type Conversion = 'string' | 'number' | 'boolean' | 'json';

interface Column {
  /** Where the value goes: a top-level field, `externalIds.<type>` or `traits.<name>`. */
  path: [string] | ['externalIds' | 'traits', string];
  convert: Conversion;
}

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const RECORD_FIELDS = new Set(['userId', 'anonymousId', 'email', 'phone', 'timestamp', 'messageId']);
/** Order columns that are not strings unless the header says otherwise. */
const ORDER_DEFAULTS: Record<string, Conversion> = { total: 'number', revenue: 'number', products: 'json' };

function columnsFromHeader(header: string[], kind: ImportKind): Column[] {
  const seen = new Set<string>();
  return header.map((rawName, index) => {
    const name = rawName.trim();
    let base = name;
    let convert: Conversion | undefined;
    const colon = name.lastIndexOf(':');
    if (colon !== -1) {
      const suffix = name.slice(colon + 1).toLowerCase();
      if (suffix !== 'number' && suffix !== 'boolean' && suffix !== 'string' && suffix !== 'json') {
        throw invalid(`CSV column "${name}": the type suffix must be :number, :boolean, :string or :json`, `header[${index}]`);
      }
      base = name.slice(0, colon);
      convert = suffix;
    }
    if (base === '') throw invalid(`CSV column ${index + 1} has no name`, `header[${index}]`);
    if (seen.has(base)) throw invalid(`CSV column "${base}" appears twice`, `header[${index}]`);
    seen.add(base);
    const dot = base.indexOf('.');
    const group = dot === -1 ? '' : base.slice(0, dot);
    const rest = dot === -1 ? base : base.slice(dot + 1);
    let path: Column['path'];
    if (kind === 'records' && (group === 'externalIds' || group === 'traits')) path = [group, rest];
    else if (kind === 'records' && !RECORD_FIELDS.has(base)) path = ['traits', base];
    else path = [base];
    const leaf = path[path.length - 1] as string;
    if (leaf === '' || FORBIDDEN_NAMES.has(leaf)) throw invalid(`CSV column "${name}" is not an allowed name`, `header[${index}]`);
    return { path, convert: convert ?? (kind === 'orders' ? (ORDER_DEFAULTS[base] ?? 'string') : 'string') };
  });
}

const TRUE = new Set(['true', '1', 'yes', 'y']);
const FALSE = new Set(['false', '0', 'no', 'n']);

function convertCell(value: string, convert: Conversion): { ok: true; value: unknown } | { ok: false; message: string } {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  switch (convert) {
    case 'string':
      return { ok: true, value };
    case 'number': {
      const n = Number(value.trim());
      return Number.isFinite(n) && value.trim() !== '' ? { ok: true, value: n } : { ok: false, message: `"${shown}" is not a number` };
    }
    case 'boolean': {
      const v = value.trim().toLowerCase();
      if (TRUE.has(v)) return { ok: true, value: true };
      if (FALSE.has(v)) return { ok: true, value: false };
      return { ok: false, message: `"${shown}" is not a boolean (true/false, yes/no, 1/0)` };
    }
    case 'json':
      try {
        return { ok: true, value: JSON.parse(value) };
      } catch {
        return { ok: false, message: `"${shown}" is not valid JSON` };
      }
  }
}

/**
 * CSV with a header row. Records: userId, anonymousId, email, phone, timestamp and messageId
 * are record fields, `externalIds.<type>` columns external ids, every other column a trait.
 * Orders: columns are the order row's fields. A `:number`, `:boolean` or `:json` suffix
 * converts a column; empty cells are left out.
 */
export function parseCsvRows(text: string, kind: ImportKind): ParsedRows {
  let records: string[][];
  try {
    records = parseCsv(text, { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw invalid(`CSV is not valid: ${(error as Error).message}`, line === undefined ? '(root)' : `line ${line}`);
  }
  const [header, ...data] = records;
  if (!header) throw invalid('CSV is empty; the first line must name the columns');
  const columns = columnsFromHeader(header, kind);
  const out: ParsedRows = { total: data.length, rows: [], rowNumbers: [], errors: [] };
  data.forEach((cells, i) => {
    const row = i + 1;
    if (cells.length !== columns.length) {
      out.errors.push({ row, issues: [{ path: '(root)', message: `has ${cells.length} cells; the header has ${columns.length} columns` }] });
      return;
    }
    const issues: Issue[] = [];
    const value: Record<string, unknown> = {};
    columns.forEach((column, c) => {
      const cell = cells[c] as string;
      if (cell === '') return;
      const converted = convertCell(cell, column.convert);
      if (!converted.ok) {
        issues.push({ path: column.path.join('.'), message: converted.message });
        return;
      }
      if (column.path.length === 1) value[column.path[0]] = converted.value;
      else {
        const [group, name] = column.path;
        const target = (value[group] ??= {}) as Record<string, unknown>;
        target[name] = converted.value;
      }
    });
    if (issues.length > 0) out.errors.push({ row, issues });
    else {
      out.rows.push(value);
      out.rowNumbers.push(row);
    }
  });
  return out;
}
