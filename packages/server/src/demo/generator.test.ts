import {
  COMMERCE_EVENT_NAMES,
  createEngine,
  eventName,
  LIMITS,
  parseBatchOrThrow,
  parseMessage,
} from '@attune/core';
import { createSqliteStore } from '@attune/storage-sqlite';
import { describe, expect, it } from 'vitest';
import { demoCatalog } from './catalog.ts';
import { demoShowcase, generateDemoBatches, generateDemoCalls, generateDemoVisitors } from './generator.ts';
import type { DemoCall } from './types.ts';

const NOW = Date.parse('2026-11-15T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const parseOptions = () => {
  let n = 0;
  return { receivedAt: NOW, newId: () => `gen-${n++}` };
};

function collect(options: Parameters<typeof generateDemoCalls>[0]): DemoCall[] {
  return [...generateDemoCalls(options)];
}

function namesOf(calls: DemoCall[]): Set<string> {
  const names = new Set<string>();
  const opts = parseOptions();
  for (const c of calls) {
    const parsed = parseMessage(c, undefined, opts);
    if (parsed.ok) names.add(eventName(parsed.message));
  }
  return names;
}

describe('demoCatalog', () => {
  it('has ~200 distinct products over the demo categories, the same for the same seed', () => {
    const catalog = demoCatalog(42);
    expect(catalog.length).toBe(200);
    expect(new Set(catalog.map((p) => p.product_id)).size).toBe(200);
    expect(new Set(catalog.map((p) => p.sku)).size).toBe(200);
    expect(new Set(catalog.map((p) => p.name)).size).toBe(200);
    expect(new Set(catalog.map((p) => p.category))).toEqual(
      new Set(['Shoes', 'Outerwear', 'Clothing', 'Bags', 'Accessories', 'Electronics', 'Outdoor']),
    );
    for (const p of catalog) {
      expect(p.price).toBeGreaterThan(0);
      expect(p.url).toBe(`https://shop.example.com${p.path}`);
      expect(p.brand).not.toBe('');
    }
    expect(JSON.stringify(demoCatalog(42))).toBe(JSON.stringify(catalog));
    expect(JSON.stringify(demoCatalog(7))).not.toBe(JSON.stringify(catalog));
  });
});

describe('demo data generator', () => {
  const options = { seed: 42, visitors: 120, days: 30, now: NOW };

  it('is deterministic: the same seed gives the same calls, another seed other calls', () => {
    const a = collect(options);
    const b = collect(options);
    expect(a.length).toBeGreaterThan(1000);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = collect({ ...options, seed: 43 });
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });

  it('gives a visitor the same calls whatever the size of the data set', () => {
    const small = [...generateDemoVisitors({ ...options, visitors: 10 })];
    const large = [...generateDemoVisitors({ ...options, visitors: 40 })];
    expect(JSON.stringify(large.slice(0, 10))).toBe(JSON.stringify(small));
  });

  it('gives every call a unique messageId and a time inside the window', () => {
    const calls = collect(options);
    expect(new Set(calls.map((c) => c.messageId)).size).toBe(calls.length);
    for (const c of calls) {
      const t = Date.parse(c.timestamp);
      expect(t).toBeGreaterThanOrEqual(NOW - options.days * DAY);
      expect(t).toBeLessThanOrEqual(NOW);
    }
  });

  it('produces calls that pass the core validation, in batches under the request limit', () => {
    let calls = 0;
    let batches = 0;
    for (const batch of generateDemoBatches({ ...options, maxCalls: 250 })) {
      const body = { batch: batch.calls };
      expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(LIMITS.maxBatchBytes);
      expect(batch.calls.length).toBeLessThanOrEqual(250);
      const messages = parseBatchOrThrow(body, parseOptions());
      expect(messages).toHaveLength(batch.calls.length);
      calls += batch.calls.length;
      batches++;
    }
    expect(batches).toBeGreaterThan(5);
    expect(calls).toBe(collect(options).length);
    // Each call also passes on its own, as the single-call endpoints would see it.
    for (const call of collect({ ...options, visitors: 20 })) {
      const outcome = parseMessage(call, undefined, parseOptions());
      expect(outcome.ok, JSON.stringify(outcome.ok ? null : outcome.issues)).toBe(true);
    }
  });

  it('sends every event of the commerce taxonomy and every kind of call', () => {
    const calls = collect(options);
    const names = namesOf(calls);
    for (const name of COMMERCE_EVENT_NAMES) expect(names, name).toContain(name);
    expect(new Set(calls.map((c) => c.type))).toEqual(new Set(['page', 'screen', 'track', 'identify', 'group']));
  });

  it('covers the taxonomy even with 4 visitors over 1 day', () => {
    const names = namesOf(collect({ seed: 9, visitors: 4, days: 1, now: NOW }));
    expect(COMMERCE_EVENT_NAMES.filter((n) => !names.has(n))).toEqual([]);
  });

  it('has the shapes of real traffic: devices, user agents, apps, campaigns, back office', () => {
    const calls = collect(options);
    const agents = calls.map((c) => (c.context as Record<string, unknown>).userAgent).filter((ua): ua is string => typeof ua === 'string');
    expect(agents.some((ua) => ua.includes('iPhone'))).toBe(true);
    expect(agents.some((ua) => ua.includes('Android'))).toBe(true);
    expect(agents.some((ua) => ua.includes('Windows NT'))).toBe(true);
    expect(agents.some((ua) => ua.includes('Macintosh'))).toBe(true);
    const contexts = calls.map((c) => c.context as Record<string, unknown>);
    expect(contexts.some((c) => c.campaign !== undefined)).toBe(true);
    expect(contexts.some((c) => c.app !== undefined && (c.device as { type?: string }).type === 'ios')).toBe(true);
    expect(contexts.some((c) => c.app !== undefined && (c.device as { type?: string }).type === 'android')).toBe(true);
    expect(contexts.every((c) => typeof c.ip === 'string' || c.channel === 'back_office')).toBe(true);
    const web = calls.filter((c) => c.type === 'page');
    expect(web.every((c) => typeof ((c.context as Record<string, unknown>).page as { url?: string })?.url === 'string')).toBe(true);
    const backOffice = calls.filter((c) => (c.context as Record<string, unknown>).channel === 'back_office');
    expect(new Set(backOffice.map((c) => c.event))).toEqual(new Set(['Order Placed', 'Order Shipped', 'Order Refunded', 'Order Cancelled']));
    const refunds = backOffice.filter((c) => c.event === 'Order Refunded');
    expect(refunds.every((c) => (c.properties as { returned?: boolean }).returned === true)).toBe(true);
    // A daily rhythm: more traffic in the evening than at 4 a.m.
    const hours = new Array<number>(24).fill(0);
    for (const c of web) hours[new Date(c.timestamp).getUTCHours()] = (hours[new Date(c.timestamp).getUTCHours()] ?? 0) + 1;
    expect(hours[20] as number).toBeGreaterThan(3 * (hours[4] as number));
  });

  it('stitches the showcase user: three devices, each signed in with its anonymousId', () => {
    const showcase = demoShowcase(42);
    const [first] = [...generateDemoVisitors({ ...options, visitors: 1 })];
    const calls = first?.calls ?? [];
    const signIns = calls.filter((c) => c.type === 'identify' && c.userId === showcase.userId);
    expect(new Set(signIns.map((c) => c.anonymousId)).size).toBe(3);
    expect(calls.some((c) => c.type === 'identify' && (c.traits as { email?: string }).email === showcase.email)).toBe(true);
    expect(first?.orders).toBe(3);
  });

  it('lands as the engine expects: one merged profile with three devices and its orders', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    const engine = createEngine({
      store,
      clock: { now: () => NOW, defer: (fn) => setImmediate(fn) },
      identity: { externalIds: ['crm_id'] },
    });
    let orders = 0;
    for (const batch of generateDemoBatches({ seed: 42, visitors: 30, days: 14, now: NOW })) {
      await engine.ingestBatch({ batch: batch.calls });
      orders = batch.orders;
    }
    const showcase = demoShowcase(42);
    const id = await engine.findProfileId('email', showcase.email);
    expect(id).not.toBeNull();
    const profile = await engine.getProfile(id as string);
    expect(profile?.traits.email).toBe(showcase.email);
    expect(profile?.identities.filter((i) => i.type === 'anonymousId')).toHaveLength(3);
    expect(profile?.computed.devices.length).toBe(3);
    expect(profile?.computed.orderCount).toBe(3);
    expect(profile?.computed.channels).toEqual(expect.arrayContaining(['web', 'app', 'back_office']));
    expect(await engine.findProfileId('userId', showcase.userId)).toBe(id);
    // The order system's customer number (context.externalIds) lands on the same profile.
    expect(await engine.findProfileId('crm_id', 'CRM-42-100000')).toBe(id);
    expect(orders).toBeGreaterThan(3);
    const b2b = await engine.findProfileId('userId', 'cust-42-00002');
    expect((await engine.getProfile(b2b as string))?.accounts.map((a) => a.id)).toEqual(['acct-acme-outfitters']);
    await store.close();
  });
});
