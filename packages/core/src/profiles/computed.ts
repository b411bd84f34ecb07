import { BACK_OFFICE_EVENTS, orderValue } from '../protocol/commerce.ts';
import type { Message } from '../protocol/segment.ts';
import type { StoredEvent } from '../store.ts';
import type { Channel, ComputedTraits, DeviceSeen } from './types.ts';

export const DEFAULT_SESSION_TIMEOUT_MS = 30 * 60 * 1000;
const MAX_AFFINITY_KEYS = 50;
const MAX_DEVICES = 10;

export interface ApplyEventOptions {
  sessionTimeoutMs: number;
  /** False when this order id was already counted (the storefront and the back office both report it). */
  countsAsNewOrder: boolean;
  /** False when this order's cancellation was already counted. */
  countsAsNewCancellation: boolean;
}

/** Folds one event into the aggregates, in O(1): no event history is read. */
export function applyEvent(c: ComputedTraits, event: StoredEvent, options: ApplyEventOptions): void {
  const ts = event.timestamp;
  const msg = event.message;
  if (msg.type === 'track' || msg.type === 'page' || msg.type === 'screen') {
    c.eventCounts[event.name] = (Object.hasOwn(c.eventCounts, event.name) ? (c.eventCounts[event.name] ?? 0) : 0) + 1;
  }
  if (c.firstSeen === null || ts < c.firstSeen) {
    // An event long before everything else is a session of its own.
    if (c.firstSeen !== null && c.firstSeen - ts > options.sessionTimeoutMs) c.sessions += 1;
    c.firstSeen = ts;
  }
  if (c.lastActivityAt === null) {
    c.sessions += 1;
    c.lastActivityAt = ts;
  } else if (ts > c.lastActivityAt) {
    if (ts - c.lastActivityAt > options.sessionTimeoutMs) c.sessions += 1;
    c.lastActivityAt = ts;
  }
  if (c.lastSeen === null || ts > c.lastSeen) c.lastSeen = ts;

  const props = (msg.type === 'track' || msg.type === 'page' || msg.type === 'screen' ? msg.properties : undefined) ?? {};
  if (msg.type === 'track') {
    switch (msg.event) {
      case 'Order Completed':
      case 'Order Placed':
        if (options.countsAsNewOrder) {
          c.orders += 1;
          c.revenue = round(c.revenue + orderValue(props));
          if (c.lastOrderAt === null || ts > c.lastOrderAt) c.lastOrderAt = ts;
          if (typeof props.currency === 'string') c.currency = props.currency;
        }
        break;
      case 'Order Refunded':
        c.refunded = round(c.refunded + Math.abs(orderValue(props)));
        break;
      case 'Order Cancelled':
        if (options.countsAsNewCancellation) c.cancelled = round(c.cancelled + Math.abs(orderValue(props)));
        break;
      case 'Product Viewed':
        bump(c.categoryViews, props.category);
        bump(c.brandViews, props.brand);
        break;
      case 'Product List Viewed':
        bump(c.categoryViews, props.category);
        break;
      case 'Account Deleted':
        c.accountDeletedAt = ts;
        break;
    }
  }
  const device = deviceOf(msg, ts);
  if (device) rememberDevice(c.devices, device);
  const channel = channelOf(msg);
  if (channel && !c.channels.includes(channel)) c.channels.push(channel);
}

/** Merges aggregates of two profiles of one person; exact, since every field is mergeable. */
export function mergeComputed(into: ComputedTraits, from: ComputedTraits): void {
  for (const [name, n] of Object.entries(from.eventCounts)) {
    into.eventCounts[name] = (Object.hasOwn(into.eventCounts, name) ? (into.eventCounts[name] ?? 0) : 0) + n;
  }
  into.firstSeen = minOf(into.firstSeen, from.firstSeen);
  into.lastSeen = maxOf(into.lastSeen, from.lastSeen);
  into.lastActivityAt = maxOf(into.lastActivityAt, from.lastActivityAt);
  into.sessions += from.sessions;
  into.orders += from.orders;
  into.revenue = round(into.revenue + from.revenue);
  into.refunded = round(into.refunded + from.refunded);
  into.cancelled = round(into.cancelled + from.cancelled);
  if (from.lastOrderAt !== null && (into.lastOrderAt === null || from.lastOrderAt > into.lastOrderAt)) {
    into.lastOrderAt = from.lastOrderAt;
    into.currency = from.currency ?? into.currency;
  }
  for (const [k, n] of Object.entries(from.categoryViews)) bump(into.categoryViews, k, n);
  for (const [k, n] of Object.entries(from.brandViews)) bump(into.brandViews, k, n);
  for (const d of from.devices) rememberDevice(into.devices, d);
  for (const ch of from.channels) if (!into.channels.includes(ch)) into.channels.push(ch);
  into.accountDeletedAt = maxOf(into.accountDeletedAt, from.accountDeletedAt);
}

export interface ComputedSummary {
  eventCounts: Record<string, number>;
  firstSeen: string | null;
  lastSeen: string | null;
  sessions: number;
  orderCount: number;
  revenue: number;
  refunded: number;
  cancelled: number;
  lifetimeValue: number;
  averageOrderValue: number;
  lastOrderAt: string | null;
  currency: string | null;
  topCategories: Array<{ value: string; views: number }>;
  topBrands: Array<{ value: string; views: number }>;
  devices: Array<Omit<DeviceSeen, 'lastSeen'> & { lastSeen: string }>;
  channels: Channel[];
  accountDeletedAt: string | null;
}

/**
 * The computed traits as the API shows them. Lifetime value is revenue net of refunds and
 * cancellations; average order value is gross revenue over orders.
 */
export function summarizeComputed(c: ComputedTraits, top = 5): ComputedSummary {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    eventCounts: { ...c.eventCounts },
    firstSeen: iso(c.firstSeen),
    lastSeen: iso(c.lastSeen),
    sessions: c.sessions,
    orderCount: c.orders,
    revenue: c.revenue,
    refunded: c.refunded,
    cancelled: c.cancelled,
    lifetimeValue: round(c.revenue - c.refunded - c.cancelled),
    averageOrderValue: c.orders === 0 ? 0 : round(c.revenue / c.orders),
    lastOrderAt: iso(c.lastOrderAt),
    currency: c.currency,
    topCategories: topOf(c.categoryViews, top),
    topBrands: topOf(c.brandViews, top),
    devices: c.devices.map((d) => ({ ...d, lastSeen: new Date(d.lastSeen).toISOString() })),
    channels: [...c.channels],
    accountDeletedAt: iso(c.accountDeletedAt),
  };
}

function topOf(counts: Record<string, number>, n: number): Array<{ value: string; views: number }> {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([value, views]) => ({ value, views }));
}

/** Adds to a key's count, keeping the 50 highest keys (ties: the first in name order). */
export function bump(counts: Record<string, number>, key: unknown, by = 1): void {
  if (typeof key !== 'string' || key === '' || key.length > 200) return;
  const current = Object.hasOwn(counts, key) ? (counts[key] ?? 0) : 0;
  Object.defineProperty(counts, key, { value: current + by, enumerable: true, writable: true, configurable: true });
  const keys = Object.keys(counts);
  if (keys.length > MAX_AFFINITY_KEYS) {
    // Keep the most viewed; drop the least viewed (ties: the last in name order).
    let worst = keys[0] as string;
    for (const k of keys) {
      const a = counts[k] ?? 0;
      const w = counts[worst] ?? 0;
      if (a < w || (a === w && k > worst)) worst = k;
    }
    delete counts[worst];
  }
}

function rememberDevice(devices: DeviceSeen[], device: DeviceSeen): void {
  const existing = devices.find((d) => d.key === device.key);
  if (existing) {
    existing.lastSeen = Math.max(existing.lastSeen, device.lastSeen);
    return;
  }
  devices.push(device);
  if (devices.length > MAX_DEVICES) {
    devices.sort((a, b) => b.lastSeen - a.lastSeen);
    devices.length = MAX_DEVICES;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

interface UserAgentInfo {
  type: DeviceSeen['type'];
  os: string | undefined;
  browser: string | undefined;
}

// Most traffic comes from a few thousand distinct user agents; parse each once.
const uaCache = new Map<string, UserAgentInfo>();
const UA_CACHE_SIZE = 2000;

function parseUserAgent(ua: string): UserAgentInfo {
  const cached = uaCache.get(ua);
  if (cached) return cached;
  const type: DeviceSeen['type'] = /iPad|Tablet/i.test(ua) ? 'tablet' : /Mobi|iPhone|Android/i.test(ua) ? 'mobile' : 'desktop';
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /iPhone|iPad|iOS/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Android/.test(ua)
          ? 'Android'
          : /Linux/.test(ua)
            ? 'Linux'
            : undefined;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrome\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : undefined;
  const info = { type, os, browser };
  if (uaCache.size >= UA_CACHE_SIZE) uaCache.clear();
  uaCache.set(ua, info);
  return info;
}

/** What device a call came from, from `context.device`, `context.os` and the user agent. */
export function deviceOf(msg: Message, at: number): DeviceSeen | null {
  const ctx = msg.context;
  const device = (ctx.device ?? {}) as Record<string, unknown>;
  const os = (ctx.os ?? {}) as Record<string, unknown>;
  const ua = str(ctx.userAgent);
  if (!str(device.id) && !str(device.type) && !ua) return null;
  const parsed = ua ? parseUserAgent(ua) : undefined;
  let type: DeviceSeen['type'] = 'other';
  const declared = str(device.type)?.toLowerCase();
  if (declared === 'ios' || declared === 'android' || declared === 'mobile' || declared === 'phone') type = 'mobile';
  else if (declared === 'tablet' || declared === 'ipad') type = 'tablet';
  else if (declared === 'desktop' || declared === 'web') type = 'desktop';
  else if (declared === 'server') type = 'server';
  else if (parsed) type = parsed.type;
  const osName = str(os.name) ?? parsed?.os;
  const browser = parsed?.browser;
  const key = str(device.id) ?? `${type}|${osName ?? ''}|${browser ?? ''}`;
  return { key, type, os: osName, browser, lastSeen: at };
}

const CHANNEL_ALIASES: Record<string, Channel> = {
  web: 'web',
  browser: 'web',
  app: 'app',
  mobile: 'app',
  store: 'store',
  pos: 'store',
  back_office: 'back_office',
  'back-office': 'back_office',
  backoffice: 'back_office',
};

/** The channel a call came through: declared (`context.channel`), else inferred from its shape. */
export function channelOf(msg: Message): Channel | null {
  const declared = str(msg.context.channel) ?? str((msg as { channel?: unknown }).channel);
  if (declared) {
    const channel = CHANNEL_ALIASES[declared.toLowerCase()];
    if (channel) return channel;
  }
  if (msg.type === 'track' && BACK_OFFICE_EVENTS.has(msg.event)) return 'back_office';
  if (msg.type === 'screen' || msg.context.app !== undefined) return 'app';
  const deviceType = str((msg.context.device as Record<string, unknown> | undefined)?.type)?.toLowerCase();
  if (deviceType === 'ios' || deviceType === 'android') return 'app';
  if (msg.type === 'page' || msg.context.userAgent !== undefined || msg.context.page !== undefined) return 'web';
  return null;
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
