import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adminGet,
  createDatabase,
  freePort,
  killAll,
  postBatch,
  removeDir,
  SECRET_KEY,
  startCli,
  tempDataDir,
  WRITE_KEY,
} from './harness.ts';

afterAll(killAll);

const BATCHES = 50;
const PER_BATCH = 100;
const IN_FLIGHT = 8;
/** kill -9 once this many batches were acknowledged, with others still in flight. */
const KILL_AFTER = 15;

interface ProfileBody {
  id: string;
  computed: { eventCounts: Record<string, number> };
}

describe.each(['sqlite', 'postgres'] as const)('durability on %s', (kind) => {
  it('keeps every acknowledged event when the process is killed with SIGKILL mid-stream', async () => {
    const dataDir = tempDataDir();
    const db = kind === 'postgres' ? await createDatabase() : null;
    const env = { ATTUNE_DATA_DIR: dataDir, DATABASE_URL: db?.url, ATTUNE_SECRET_KEY: SECRET_KEY, ATTUNE_WRITE_KEY: WRITE_KEY };
    try {
      const first = await startCli({ port: await freePort(), env });
      const run = randomBytes(4).toString('hex');
      // One profile per batch, so each batch can be counted on its own after the restart.
      const batchOf = (i: number) =>
        Array.from({ length: PER_BATCH }, (_, j) => ({
          type: 'track',
          event: 'Durability Probe',
          anonymousId: `dur-${run}-${i}`,
          messageId: `dur-${run}-${i}-${j}`,
          properties: { batch: i, n: j },
        }));

      const acknowledged = new Set<number>();
      const refused = new Map<number, string>();
      let next = 0;
      let killedAt = -1;
      const worker = async () => {
        while (next < BATCHES) {
          const i = next++;
          try {
            const res = await postBatch(first.url, WRITE_KEY, batchOf(i));
            const text = await res.text();
            if (res.status >= 200 && res.status < 300) acknowledged.add(i);
            else refused.set(i, `${res.status} ${text}`);
          } catch (error) {
            refused.set(i, String(error));
          }
          if (killedAt < 0 && acknowledged.size >= KILL_AFTER) {
            killedAt = acknowledged.size;
            first.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(killedAt).toBe(KILL_AFTER);
      // The kill came while batches were still being sent: not all of them got through.
      expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER);
      expect(acknowledged.size).toBeLessThan(BATCHES);
      expect(refused.size).toBe(BATCHES - acknowledged.size);

      const second = await startCli({ port: await freePort(), env });
      try {
        for (let i = 0; i < BATCHES; i++) {
          const { status, body } = await adminGet<ProfileBody>(second.url, `/v1/profiles?anonymousId=dur-${run}-${i}`);
          if (!acknowledged.has(i)) {
            // Not acknowledged: lost or kept, but a batch is one transaction, never half of it.
            const count = status === 200 ? (body.computed.eventCounts['Durability Probe'] ?? 0) : 0;
            expect([0, PER_BATCH], `batch ${i}`).toContain(count);
            continue;
          }
          expect(status, `acknowledged batch ${i}`).toBe(200);
          expect(body.computed.eventCounts['Durability Probe'], `acknowledged batch ${i}`).toBe(PER_BATCH);
          const events = await adminGet<{ events: Array<{ messageId: string }> }>(
            second.url,
            `/v1/profiles/${body.id}/events?name=${encodeURIComponent('Durability Probe')}&limit=1000`,
          );
          expect(events.status).toBe(200);
          expect(new Set(events.body.events.map((e) => e.messageId))).toEqual(new Set(batchOf(i).map((c) => c.messageId)));
        }
        // Sending an acknowledged batch again after the restart is a no-op.
        const [again] = [...acknowledged];
        const res = await postBatch(second.url, WRITE_KEY, batchOf(again as number));
        expect(await res.json()).toMatchObject({ accepted: 0, duplicates: PER_BATCH });
      } finally {
        expect(await second.stop()).toEqual({ code: 0, signal: null });
      }
    } finally {
      removeDir(dataDir);
      await db?.drop();
    }
  });
});
