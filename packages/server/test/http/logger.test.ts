import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/index.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes one JSON object per line through the core Logger port, honouring the level', async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', stream });
    logger.debug({ a: 1 }, 'hidden');
    logger.info({ method: 'GET', status: 200 }, 'request');
    logger.warn({ n: 2 }, 'careful');
    logger.error({ err: 'boom' }, 'failed');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [30, 'request'],
      [40, 'careful'],
      [50, 'failed'],
    ]);
    expect(lines[0]).toMatchObject({ method: 'GET', status: 200, service: 'attune' });
    expect(typeof lines[0]?.time).toBe('number');
    expect(logger.pino.isLevelEnabled('debug')).toBe(false);
  });

  it('redacts credentials that reach it by mistake', async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'debug', stream });
    logger.info({ authorization: 'Basic d2tfeDo=', headers: { authorization: 'Bearer sk_1' }, key: 'sk_2', writeKey: 'wk_3' }, 'oops');
    await new Promise((r) => setImmediate(r));
    const text = JSON.stringify(lines);
    for (const secret of ['d2tfeDo', 'sk_1', 'sk_2', 'wk_3']) expect(text).not.toContain(secret);
    expect(lines[0]?.key).toBe('[redacted]');
  });
});
