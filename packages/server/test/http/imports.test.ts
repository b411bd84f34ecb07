import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type Harness, STORE_KINDS, startHarness, uid } from './harness.ts';

interface ImportAnswer {
  rows: number;
  accepted: number;
  duplicates: number;
  errors: Array<{ row: number; issues: Array<{ path: string; message: string }> }>;
  errorCount: number;
}
interface ProfileView {
  id: string;
  traits: Record<string, unknown>;
  computed: { orderCount: number; revenue: number; cancelled: number; eventCounts: Record<string, number> };
}

describe.each(STORE_KINDS)('imports on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { externalIds: ['crm_id'] });
  });
  afterAll(() => h.close());

  const post = async (path: string, body: string | Uint8Array, contentType: string, headers: Record<string, string> = {}) =>
    h.admin(path, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const report = async (res: Response) => {
    expect(res.status).toBe(200);
    return (await res.json()) as ImportAnswer;
  };
  const profile = async (query: string) => {
    const res = await h.adminJson<ProfileView>(`/v1/profiles?${query}`);
    expect(res.status, query).toBe(200);
    return res.body;
  };

  it('imports one JSON record', async () => {
    const userId = uid('rec');
    const r = await report(await post('/v1/profiles/records', JSON.stringify({ userId, traits: { plan: 'gold' } }), 'application/json'));
    expect(r).toEqual({ rows: 1, accepted: 1, duplicates: 0, errors: [], errorCount: 0 });
    expect((await profile(`userId=${userId}`)).traits.plan).toBe('gold');
  });

  it('imports a JSON array with a per-row error report, keeping the valid rows', async () => {
    const a = uid('rec-a');
    const b = uid('rec-b');
    const rows = [
      { userId: a, traits: { score: 1 } },
      { traits: { orphan: true } },
      { userId: b, email: `${b}@example.com`, traits: { score: 2 } },
      { userId: 42.5 },
      'not an object',
    ];
    const r = await report(await post('/v1/profiles/records', JSON.stringify(rows), 'application/json'));
    expect(r.rows).toBe(5);
    expect(r.accepted).toBe(2);
    expect(r.errors.map((e) => e.row)).toEqual([2, 4, 5]);
    expect(r.errors[0]?.issues.map((i) => i.path)).toContain('userId');
    expect(r.errorCount).toBe(3);
    expect((await profile(`email=${b}@example.com`)).traits.score).toBe(2);
  });

  it('counts a re-imported record with the same messageId as a duplicate', async () => {
    const userId = uid('rec-dup');
    const body = JSON.stringify([{ userId, messageId: `${userId}-m`, traits: { n: 1 } }]);
    expect(await report(await post('/v1/profiles/records', body, 'application/json'))).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await report(await post('/v1/profiles/records', body, 'application/json'))).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('imports NDJSON, reporting bad lines by line number', async () => {
    const a = uid('nd-a');
    const b = uid('nd-b');
    const text = [
      JSON.stringify({ userId: a, traits: { source: 'crm' } }),
      '',
      '{"userId": "broken",',
      JSON.stringify({ userId: b, externalIds: { crm_id: `${b}-crm` }, traits: { source: 'crm' } }),
      JSON.stringify({ email: 'x' }),
      '',
    ].join('\n');
    const r = await report(await post('/v1/profiles/records', text, 'application/x-ndjson'));
    expect(r.rows).toBe(4);
    expect(r.accepted).toBe(2);
    expect(r.errors.map((e) => e.row)).toEqual([3, 5]);
    expect(r.errors[0]?.issues[0]?.message).toContain('not valid JSON');
    expect(r.errors[1]?.issues.map((i) => i.path)).toContain('email');
    expect((await profile(`crm_id=${b}-crm`)).traits.source).toBe('crm');
  });

  it('imports CSV: record fields, externalIds.<type>, traits and typed columns', async () => {
    const a = uid('csv-a');
    const b = uid('csv-b');
    const c = uid('csv-c');
    const csv = [
      'userId,email,externalIds.crm_id,credit_score:number,vip:boolean,segment,traits.city,notes',
      `${a},${a}@example.com,${a}-crm,712,true,gold,Paris,"likes ""quotes"", commas"`,
      `${b},,${b}-crm,abc,maybe,silver,Lyon,`,
      `,,,,,,,`,
      `${c},${c}@example.com,,640.5,no,bronze,Nice`,
      `${c}-x,${c}-x@example.com,,1,yes,bronze,Nice,note`,
    ].join('\r\n');
    const r = await report(await post('/v1/profiles/records', csv, 'text/csv; charset=utf-8'));
    expect(r.rows).toBe(5);
    expect(r.accepted).toBe(2);
    expect(r.errors.map((e) => e.row)).toEqual([2, 3, 4]);
    const row2 = r.errors[0]?.issues.map((i) => i.path);
    expect(row2).toEqual(['traits.credit_score', 'traits.vip']);
    expect(r.errors[1]?.issues.map((i) => i.path)).toContain('userId');
    expect(r.errors[2]?.issues[0]?.message).toContain('cells');

    const pa = await profile(`crm_id=${a}-crm`);
    expect(pa.traits).toMatchObject({ credit_score: 712, vip: true, segment: 'gold', city: 'Paris', notes: 'likes "quotes", commas' });
    expect((await profile(`email=${c}-x@example.com`)).traits).toMatchObject({ credit_score: 1, vip: true, notes: 'note' });
  });

  it('imports gzip-compressed CSV', async () => {
    const a = uid('gz');
    const csv = `userId,tier\n${a},platinum\n`;
    const r = await report(await post('/v1/profiles/records', gzipSync(csv), 'text/csv', { 'content-encoding': 'gzip' }));
    expect(r).toMatchObject({ rows: 1, accepted: 1 });
    expect((await profile(`userId=${a}`)).traits.tier).toBe('platinum');
  });

  it('refuses broken CSV with the line, and bad headers by column', async () => {
    const broken = await expectError(await post('/v1/profiles/records', 'userId,name\nu1,"Ada\nu2,Bob "x" Jr\n', 'text/csv'), 400, 'VALIDATION');
    expect(broken.error.message).toMatch(/CSV is not valid/);
    expect(broken.error.issues[0]?.path).toMatch(/^line \d+$/);
    const quote = await expectError(await post('/v1/profiles/records', 'userId,name\nu1,Ada\nu2,"Bob"x\n', 'text/csv'), 400, 'VALIDATION');
    expect(quote.error.issues[0]?.path).toBe('line 3');
    await expectError(await post('/v1/profiles/records', '', 'text/csv'), 400, 'VALIDATION');
    const suffix = await expectError(await post('/v1/profiles/records', 'userId,score:float\nu,1\n', 'text/csv'), 400, 'VALIDATION');
    expect(suffix.error.message).toContain('score:float');
    await expectError(await post('/v1/profiles/records', 'userId,__proto__\nu,1\n', 'text/csv'), 400, 'VALIDATION');
    await expectError(await post('/v1/profiles/records', 'userId,externalIds.constructor\nu,1\n', 'text/csv'), 400, 'VALIDATION');
    await expectError(await post('/v1/profiles/records', 'userId,a,a\nu,1,2\n', 'text/csv'), 400, 'VALIDATION');
  });

  it('refuses hostile record bodies row by row or as a whole, and stays healthy', async () => {
    const r = await report(
      await post(
        '/v1/profiles/records',
        `[{"userId":"p1","traits":{"__proto__":{"polluted":true}}},{"userId":"p2","traits":{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}}]`,
        'application/json',
      ),
    );
    expect(r.accepted).toBe(0);
    expect(r.errors.map((e) => e.row)).toEqual([1, 2]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectError(await post('/v1/profiles/records', '42', 'application/json'), 400, 'VALIDATION');
    await expectError(await post('/v1/profiles/records', Buffer.from([0x5b, 0xff, 0x5d]), 'application/json'), 400, 'VALIDATION');
    await expectError(await post('/v1/profiles/records', '<x/>', 'application/xml'), 400, 'VALIDATION');
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
  });

  it('refuses an import over 50 MB with 413', async () => {
    const body = Buffer.alloc(50 * 1024 * 1024 + 10, 0x20);
    const res = await post('/v1/profiles/records', body, 'text/csv');
    const err = await expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(err.error.message).toContain(String(50 * 1024 * 1024));
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
  });

  it('imports past orders from JSON and CSV; re-imports are duplicates', async () => {
    const userId = uid('buyer');
    const email = `${uid('mail')}@example.com`;
    const orders = [
      { order_id: `${userId}-1`, userId, timestamp: '2025-01-10T10:00:00Z', total: 100, currency: 'EUR' },
      { order_id: `${userId}-2`, userId, timestamp: '2025-02-10T10:00:00Z', total: 50, status: 'cancelled' },
      { order_id: `${userId}-3`, timestamp: '2025-03-10T10:00:00Z', total: 10 },
      { order_id: `${userId}-4`, userId, timestamp: 'last tuesday', total: 10 },
    ];
    const r = await report(await post('/v1/orders/import', JSON.stringify(orders), 'application/json'));
    expect(r.rows).toBe(4);
    expect(r.errors.map((e) => e.row)).toEqual([3, 4]);
    expect(r.errors[1]?.issues.map((i) => i.path)).toContain('timestamp');
    // The cancelled order is an Order Placed and an Order Cancelled event.
    expect(r.accepted).toBe(3);
    const p = await profile(`userId=${userId}`);
    expect(p.computed).toMatchObject({ orderCount: 2, revenue: 150, cancelled: 50 });

    const again = await report(await post('/v1/orders/import', JSON.stringify(orders.slice(0, 2)), 'application/json'));
    expect(again).toMatchObject({ accepted: 0, duplicates: 3 });

    const csv = [
      'order_id,email,timestamp,total,currency,status,products',
      `${userId}-c1,${email},2025-04-01T00:00:00Z,19.5,EUR,completed,"[{""product_id"":""p1"",""price"":19.5,""quantity"":1}]"`,
      `${userId}-c2,${email},2025-04-02T00:00:00Z,abc,EUR,completed,`,
      `${userId}-c3,${email},2025-04-03T00:00:00Z,5,EUR,refunded,`,
    ].join('\n');
    const rc = await report(await post('/v1/orders/import', csv, 'text/csv'));
    expect(rc.rows).toBe(3);
    expect(rc.errors).toEqual([{ row: 2, issues: [{ path: 'total', message: '"abc" is not a number' }] }]);
    expect(rc.accepted).toBe(3);
    const byEmail = await profile(`email=${email}`);
    expect(byEmail.computed.orderCount).toBe(2);
    expect(byEmail.computed.revenue).toBe(24.5);
  });

  it('imports 20,000 CSV rows in one request', async () => {
    const prefix = uid('bulk');
    const lines = ['userId,email,credit_score:number,segment'];
    for (let i = 0; i < 20_000; i++) lines.push(`${prefix}-${i},${prefix}-${i}@example.com,${600 + (i % 200)},s${i % 7}`);
    const started = performance.now();
    const r = await report(await post('/v1/profiles/records', lines.join('\n'), 'text/csv'));
    const seconds = (performance.now() - started) / 1000;
    expect(r).toMatchObject({ rows: 20_000, accepted: 20_000, duplicates: 0, errorCount: 0 });
    expect((await profile(`email=${prefix}-19999@example.com`)).traits.credit_score).toBe(600 + (19_999 % 200));
    console.log(`[${kind}] imported 20,000 CSV records in ${seconds.toFixed(2)} s (${Math.round(20_000 / seconds)} rows/s)`);
  });
});
