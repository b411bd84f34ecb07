import type { CatalogItemInput } from '../protocol/catalog.ts';

/** Where an incremental export stopped: items are read in (updatedAt, id) order. */
export interface ExportCursor {
  updatedAt: string;
  id: string;
}

export type ExportMode = 'full' | 'incremental';

/**
 * What an export remembers between runs. A run that did not complete (the process died, or it
 * was aborted) is resumed from its checkpoint by the next run, whatever that run's mode.
 */
export interface ExportCheckpoint {
  runId: string;
  mode: ExportMode;
  /** The last item the catalog acknowledged. */
  cursor: ExportCursor | null;
  complete: boolean;
  /** Items sent by this run so far. */
  items: number;
  startedAt: number;
}

export interface ExportSource {
  /**
   * Items changed after `after` (strictly: a later updatedAt, or the same with a greater id),
   * in (updatedAt, id) order, at most `limit`. Deletions come as tombstones (`deleted: true`)
   * at their deletion time. Fewer than `limit` items means there are no more.
   */
  page(after: ExportCursor | null, limit: number): Promise<CatalogItemInput[]>;
}

export interface ExportRunOptions {
  source: ExportSource;
  /** Sends one batch; resolves once the catalog has acknowledged it (upserts are idempotent). */
  sink: (items: CatalogItemInput[], run: { id: string }) => Promise<void>;
  state: { load(): Promise<ExportCheckpoint | null>; save(checkpoint: ExportCheckpoint): Promise<void> };
  mode: ExportMode;
  batchSize: number;
  /** Id for a new run (a resumed run keeps its own). */
  newRunId: () => string;
  now?: () => number;
  onProgress?: (progress: { runId: string; items: number; batches: number }) => void;
  /** Stops between batches; the checkpoint is kept, so the next run resumes. */
  signal?: { readonly aborted: boolean };
}

export interface ExportRunResult {
  runId: string;
  mode: ExportMode;
  /** True when this call continued a run that had not completed. */
  resumed: boolean;
  /** Items sent by the whole run, including before a resume. */
  items: number;
  /** Items sent by this call. */
  sent: number;
  deleted: number;
  batches: number;
  durationMs: number;
  cursor: ExportCursor | null;
  complete: boolean;
}

/**
 * Runs an export: reads changed items page by page, sends each page, and saves the cursor
 * only after the page was acknowledged. A run killed midway therefore resumes after its last
 * acknowledged page — no gap — and a page sent but not checkpointed is sent again, which the
 * catalog's idempotent upserts turn into no duplicate.
 */
export async function runExport(options: ExportRunOptions): Promise<ExportRunResult> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 1000) {
    throw new RangeError(`batchSize must be a whole number from 1 to 1000, got ${options.batchSize}`);
  }
  const now = options.now ?? (() => Date.now());
  const started = now();
  const previous = await options.state.load();
  const resumed = previous !== null && !previous.complete;
  let checkpoint: ExportCheckpoint = resumed
    ? previous
    : {
        runId: options.newRunId(),
        mode: options.mode,
        cursor: options.mode === 'full' ? null : (previous?.cursor ?? null),
        complete: false,
        items: 0,
        startedAt: started,
      };
  if (!resumed) await options.state.save(checkpoint);

  let sent = 0;
  let deleted = 0;
  let batches = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    const items = await options.source.page(checkpoint.cursor, options.batchSize);
    if (items.length > 0) {
      await options.sink(items, { id: checkpoint.runId });
      const last = items[items.length - 1] as CatalogItemInput;
      batches++;
      sent += items.length;
      deleted += items.filter((i) => i.deleted === true).length;
      checkpoint = { ...checkpoint, cursor: { updatedAt: last.updatedAt, id: last.id }, items: checkpoint.items + items.length };
      await options.state.save(checkpoint);
      options.onProgress?.({ runId: checkpoint.runId, items: checkpoint.items, batches });
    }
    if (items.length < options.batchSize) {
      checkpoint = { ...checkpoint, complete: true };
      await options.state.save(checkpoint);
      break;
    }
  }
  return {
    runId: checkpoint.runId,
    mode: checkpoint.mode,
    resumed,
    items: checkpoint.items,
    sent,
    deleted,
    batches,
    durationMs: now() - started,
    cursor: checkpoint.cursor,
    complete: checkpoint.complete,
  };
}

/** True when an item sorts after the cursor in (updatedAt, id) order: for sources to filter. */
export function isAfterCursor(item: { updatedAt: string; id: string }, cursor: ExportCursor | null): boolean {
  if (cursor === null) return true;
  const a = Date.parse(item.updatedAt);
  const b = Date.parse(cursor.updatedAt);
  return a > b || (a === b && item.id > cursor.id);
}

/** Sorts items in export order, (updatedAt, id). */
export function compareExportOrder(a: { updatedAt: string; id: string }, b: { updatedAt: string; id: string }): number {
  const d = Date.parse(a.updatedAt) - Date.parse(b.updatedAt);
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
