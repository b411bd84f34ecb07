import type { Engine, ImportResult, RowError } from '@attune/core';
import { type Request, type Response, Router } from 'express';
import { type BodyLimit, checkContentType, parseJsonText, readTextBody } from './body.ts';
import {
  IMPORT_CONTENT_TYPES,
  type ImportKind,
  NDJSON_TYPES,
  type ParsedRows,
  parseCsvRows,
  parseJsonRows,
  parseNdjsonRows,
} from './import-formats.ts';

/** Imports are read whole (bounded) before the engine sees them; 50 MB is ~100k CSV rows. */
export const IMPORT_LIMIT_BYTES = 50 * 1024 * 1024;
/** Row errors listed in one answer; `errorCount` has the total. */
export const MAX_LISTED_ERRORS = 1000;

export interface ImportResponse extends ImportResult {
  errorCount: number;
}

async function readRows(req: Request, res: Response, kind: ImportKind, limit: BodyLimit): Promise<ParsedRows> {
  const type = checkContentType(req, IMPORT_CONTENT_TYPES, res);
  const text = await readTextBody(req, res, limit);
  if (type === 'text/csv') return parseCsvRows(text, kind);
  if (type !== undefined && NDJSON_TYPES.includes(type)) return parseNdjsonRows(text);
  return parseJsonRows(parseJsonText(text));
}

/** The engine's result with its row positions mapped back to the file's rows, merged with parse errors. */
export function mergeImportResult(parsed: ParsedRows, result: ImportResult): ImportResponse {
  const errors: RowError[] = [
    ...parsed.errors,
    ...result.errors.map((e) => ({ row: parsed.rowNumbers[e.row - 1] ?? e.row, issues: e.issues })),
  ].sort((a, b) => a.row - b.row);
  return {
    rows: parsed.total,
    accepted: result.accepted,
    duplicates: result.duplicates,
    errors: errors.slice(0, MAX_LISTED_ERRORS),
    errorCount: errors.length,
  };
}

export function importRoutes(engine: Engine): Router {
  const router = Router();
  const route = (path: string, kind: ImportKind, run: (rows: unknown[]) => Promise<ImportResult>) => {
    const limit: BodyLimit = { bytes: IMPORT_LIMIT_BYTES, label: path };
    router.post(path, async (req, res) => {
      const parsed = await readRows(req, res, kind, limit);
      const result = await run(parsed.rows);
      res.json(mergeImportResult(parsed, result));
    });
  };
  route('/v1/profiles/records', 'records', (rows) => engine.importRecords(rows));
  route('/v1/orders/import', 'orders', (rows) => engine.importOrders(rows));
  return router;
}
