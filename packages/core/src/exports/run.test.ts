import { describe, expect, it } from 'vitest';
import type { CatalogItemInput } from '../protocol/catalog.ts';
import { compareExportOrder, type ExportCheckpoint, type ExportCursor, isAfterCursor, runExport } from './run.ts';

/** A source over an in-memory table, ordered and filtered the way sources must be. */
function tableSource(rows: CatalogItemInput[]) {
  const calls: Array<ExportCursor | null> = [];
  return {
    rows,
    calls,
    source: {
      async page(after: ExportCursor | null, limit: number) {
        calls.push(after);
        return [...rows].sort(compareExportOrder).filter((r) => isAfterCursor(r, after)).slice(0, limit);
      },
    },
  };
}

function memoryState() {
  let saved: ExportCheckpoint | null = null;
  return { state: { load: async () => saved, save: async (c: ExportCheckpoint) => void (saved = c) }, get: () => saved };
}

const at = (m: number) => new Date(Date.UTC(2026, 0, 1) + m * 60_000).toISOString();
const item = (id: string, m: number, deleted = false): CatalogItemInput => ({ id, type: 'article', updatedAt: at(m), fields: [], ...(deleted ? { deleted } : {}) });

describe('runExport', () => {
  it('sends every item once in pages, saves the cursor after each ack, and the next run sends only changes and tombstones', async () => {
    const t = tableSource(Array.from({ length: 25 }, (_, i) => item(`a${String(i).padStart(2, '0')}`, i % 3)));
    const st = memoryState();
    const received: string[] = [];
    let n = 0;
    const first = await runExport({ source: t.source, sink: async (items) => void received.push(...items.map((i) => i.id)), state: st.state, mode: 'incremental', batchSize: 10, newRunId: () => `run-${++n}` });
    expect(first).toMatchObject({ runId: 'run-1', resumed: false, items: 25, sent: 25, batches: 3, complete: true });
    expect(new Set(received).size).toBe(25);
    expect(received.length).toBe(25);

    t.rows.push(item('a03', 10), item('zz', 11), item('a05', 12, true));
    received.length = 0;
    const second = await runExport({ source: t.source, sink: async (items) => void received.push(...items.map((i) => `${i.id}${i.deleted ? '†' : ''}`)), state: st.state, mode: 'incremental', batchSize: 10, newRunId: () => `run-${++n}` });
    expect(second).toMatchObject({ runId: 'run-2', items: 3, deleted: 1, complete: true });
    expect(received).toEqual(['a03', 'zz', 'a05†']);
  });

  it('resumes a run killed midway after its last acknowledged page: no gap, no item sent twice', async () => {
    const t = tableSource(Array.from({ length: 30 }, (_, i) => item(`b${String(i).padStart(2, '0')}`, i)));
    const st = memoryState();
    const received: string[] = [];
    let batches = 0;
    const crashing = async (items: CatalogItemInput[]) => {
      if (++batches === 3) throw new Error('process killed');
      received.push(...items.map((i) => i.id));
    };
    await expect(runExport({ source: t.source, sink: crashing, state: st.state, mode: 'full', batchSize: 7, newRunId: () => 'full-1' })).rejects.toThrow('process killed');
    expect(st.get()).toMatchObject({ runId: 'full-1', complete: false, items: 14 });
    const resumed = await runExport({ source: t.source, sink: async (items) => void received.push(...items.map((i) => i.id)), state: st.state, mode: 'incremental', batchSize: 7, newRunId: () => 'new' });
    expect(resumed).toMatchObject({ runId: 'full-1', mode: 'full', resumed: true, items: 30, sent: 16, complete: true });
    expect(received).toEqual(t.rows.map((r) => r.id));
  });

  it('stops between pages when aborted and keeps the checkpoint', async () => {
    const t = tableSource(Array.from({ length: 9 }, (_, i) => item(`c${i}`, i)));
    const st = memoryState();
    const signal = { aborted: false };
    const r = await runExport({ source: t.source, sink: async () => void (signal.aborted = true), state: st.state, mode: 'full', batchSize: 3, newRunId: () => 'r', signal });
    expect(r).toMatchObject({ sent: 3, complete: false, cursor: { id: 'c2' } });
  });

  it('a full run starts over from the beginning even after a complete incremental run', async () => {
    const t = tableSource([item('d1', 1), item('d2', 2)]);
    const st = memoryState();
    await runExport({ source: t.source, sink: async () => {}, state: st.state, mode: 'incremental', batchSize: 5, newRunId: () => 'i' });
    const full = await runExport({ source: t.source, sink: async () => {}, state: st.state, mode: 'full', batchSize: 5, newRunId: () => 'f' });
    expect(full).toMatchObject({ runId: 'f', items: 2 });
    expect(t.calls.at(-1)).toEqual(null);
  });

  it('refuses a batch size out of range', async () => {
    const st = memoryState();
    await expect(runExport({ source: tableSource([]).source, sink: async () => {}, state: st.state, mode: 'full', batchSize: 0, newRunId: () => 'x' })).rejects.toThrow(/batchSize/);
  });
});
