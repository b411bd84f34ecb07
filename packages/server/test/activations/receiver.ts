import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  json: { type: string; data: Record<string, unknown> };
}

/**
 * A real HTTP webhook receiver for tests: records every request, can be told to fail the
 * next N requests, or to hold requests without answering.
 */
export async function startReceiver() {
  const received: Delivery[] = [];
  /** webhook-ids of requests held without an answer. */
  const held: string[] = [];
  let failNext = 0;
  let hang = false;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (hang) {
        held.push(String(req.headers['webhook-id']));
        return;
      }
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end('try later');
        return;
      }
      received.push({
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body,
        json: JSON.parse(body),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    received,
    held,
    /** Distinct deliveries, as a receiver deduplicating on webhook-id sees them. */
    unique: () => [...new Map(received.map((d) => [d.id, d])).values()],
    failNext(n: number) {
      failNext = n;
    },
    hang(on: boolean) {
      hang = on;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Verifies a Standard Webhooks signature the way a receiver would. */
export function verify(secret: string, d: Delivery): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${d.id}.${d.timestamp}.${d.body}`).digest('base64');
  return d.signature === `v1,${expected}`;
}

export async function until<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
