import { utf8Length } from '@attune/core';
import { type DemoProduct, demoCatalog } from './catalog.ts';
import {
  asciiName,
  CAMPAIGNS,
  COMPANIES,
  createDevice,
  type DemoDevice,
  type DeviceKind,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  HOURLY_RHYTHM,
  LAST_NAMES,
  LOCALES,
  WEB_DEVICE_KINDS,
  WEB_DEVICE_WEIGHTS,
} from './people.ts';
import { createRandom, deriveSeed, type Random } from './random.ts';
import { type DemoCall, type SessionPlan, TIME, type VisitorKind, type VisitorPlan } from './types.ts';
import { simulateVisitor } from './visitor.ts';

export interface DemoDataOptions {
  /** PRNG seed (default 42): the same seed, visitors, days and `now` give the same calls. */
  seed?: number;
  /** People visiting the shop (default 3000); each has 1–3 devices. */
  visitors?: number;
  /** Days of history, ending at `now` (default 90). */
  days?: number;
  /** End of the window, epoch ms (default: the current time). */
  now?: number;
}

export interface DemoBatch {
  calls: DemoCall[];
  /** Visitors whose calls are all in this or an earlier batch. */
  visitorsDone: number;
  /** Orders placed by those visitors. */
  orders: number;
}

export interface DemoVisitor {
  index: number;
  kind: VisitorKind;
  calls: DemoCall[];
  orders: number;
}

/** The demo user worth looking up: signed up on one device, signed in on two more, three orders. */
export interface DemoShowcase {
  email: string;
  userId: string;
  name: string;
  devices: number;
}

export const DEMO_DEFAULTS = { seed: 42, visitors: 3000, days: 90 } as const;

export function demoShowcase(seed: number = DEMO_DEFAULTS.seed): DemoShowcase {
  return { email: 'maya.lindqvist@example.com', userId: userIdOf(seed, 0), name: 'Maya Lindqvist', devices: 3 };
}

/**
 * The demo's visitors, one at a time: memory stays at one visitor's calls whatever the size of
 * the data set. Each visitor has its own PRNG stream, so visitor 17 is the same whether the
 * set has 50 or 3000 visitors.
 */
export function* generateDemoVisitors(options: DemoDataOptions = {}): Generator<DemoVisitor> {
  const seed = options.seed ?? DEMO_DEFAULTS.seed;
  const visitors = options.visitors ?? DEMO_DEFAULTS.visitors;
  const days = options.days ?? DEMO_DEFAULTS.days;
  const now = options.now ?? Date.now();
  if (!Number.isInteger(visitors) || visitors < 1) throw new Error('visitors must be a positive integer');
  if (!Number.isInteger(days) || days < 1) throw new Error('days must be a positive integer');
  const catalog = demoCatalog(seed);
  const byCategory = new Map<string, DemoProduct[]>();
  for (const p of catalog) {
    const list = byCategory.get(p.category) ?? [];
    list.push(p);
    byCategory.set(p.category, list);
  }
  const window = { start: now - days * TIME.DAY, end: now, days };
  for (let index = 0; index < visitors; index++) {
    const rng = createRandom(deriveSeed(seed, index, 0x5eed));
    const plan = planVisitor(index, seed, rng, window, [...byCategory.keys()]);
    const { calls, orders } = simulateVisitor(plan, { seed, catalog, byCategory, now, rng });
    yield { index, kind: plan.kind, calls, orders };
  }
}

/** Every call of the demo data set, visitor after visitor. */
export function* generateDemoCalls(options: DemoDataOptions = {}): Generator<DemoCall> {
  for (const v of generateDemoVisitors(options)) yield* v.calls;
}

export interface DemoBatchOptions extends DemoDataOptions {
  /** Most calls per batch (default 250). */
  maxCalls?: number;
  /** Most bytes of calls per batch (default 400 kB, under the 500 kB request limit). */
  maxBytes?: number;
}

/** The data set cut into /v1/batch bodies, lazily. */
export function* generateDemoBatches(options: DemoBatchOptions = {}): Generator<DemoBatch> {
  const maxCalls = options.maxCalls ?? 250;
  const maxBytes = options.maxBytes ?? 400_000;
  let calls: DemoCall[] = [];
  let bytes = 0;
  let visitorsDone = 0;
  let orders = 0;
  for (const v of generateDemoVisitors(options)) {
    for (const call of v.calls) {
      const size = utf8Length(JSON.stringify(call)) + 1;
      if (calls.length > 0 && (calls.length >= maxCalls || bytes + size > maxBytes)) {
        yield { calls, visitorsDone, orders };
        calls = [];
        bytes = 0;
      }
      calls.push(call);
      bytes += size;
    }
    visitorsDone = v.index + 1;
    orders += v.orders;
  }
  if (calls.length > 0 || visitorsDone === 0) yield { calls, visitorsDone, orders };
}

// ---- planning ---------------------------------------------------------------------------------

interface Window {
  start: number;
  end: number;
  days: number;
}

function userIdOf(seed: number, index: number): string {
  return `cust-${seed}-${String(index + 1).padStart(5, '0')}`;
}

const KINDS: readonly VisitorKind[] = ['bouncer', 'browser', 'guest', 'customer', 'b2b'];
const KIND_WEIGHTS: readonly number[] = [33, 30, 10, 22, 5];

/**
 * Who visitor `index` is and what they do when. The first four visitors have fixed plans that
 * between them send every event of the commerce taxonomy, so even a tiny data set covers it.
 */
function planVisitor(index: number, seed: number, rng: Random, window: Window, categories: string[]): VisitorPlan {
  const locale = rng.pick(LOCALES);
  const firstName = index === 0 ? 'Maya' : rng.pick(FIRST_NAMES);
  const lastName = index === 0 ? 'Lindqvist' : rng.pick(LAST_NAMES);
  const email = index === 0 ? demoShowcase(seed).email : `${asciiName(firstName)}.${asciiName(lastName)}${index}@${rng.pick(EMAIL_DOMAINS)}`;
  const base = {
    index,
    firstName,
    lastName,
    email,
    userId: userIdOf(seed, index),
    phone: `+49 15${rng.int(1, 7)} ${rng.int(1000000, 9999999)}`,
    crmId: `CRM-${seed}-${100000 + index}`,
    favoriteCategories: rng.sample(categories, rng.int(1, 2)),
  };
  const devices = (kinds: DeviceKind[]): DemoDevice[] => kinds.map((k) => createDevice(k, rng, locale));
  const forced = forcedPlan(index, window, devices);
  if (forced) return { ...base, ...forced, forced: true };

  const kind = rng.weighted(KINDS, KIND_WEIGHTS);
  const deviceCount =
    kind === 'bouncer' ? 1 : kind === 'customer' ? rng.weighted([1, 2, 3], [35, 40, 25]) : kind === 'b2b' ? rng.int(2, 3) : rng.weighted([1, 2], [80, 20]);
  const kinds = rng.sample(WEB_DEVICE_KINDS, WEB_DEVICE_KINDS.length);
  const webKinds: DeviceKind[] = [];
  // Devices by popularity, no two of the same kind (one person rarely has two iPhones).
  while (webKinds.length < deviceCount) {
    const k = rng.weighted(WEB_DEVICE_KINDS, WEB_DEVICE_WEIGHTS);
    if (!webKinds.includes(k)) webKinds.push(k);
    else if (kinds.length > 0) {
      const other = kinds.shift() as DeviceKind;
      if (!webKinds.includes(other)) webKinds.push(other);
    }
  }
  if (kind === 'customer' && deviceCount > 1 && rng.chance(0.3)) webKinds[webKinds.length - 1] = rng.chance(0.55) ? 'ios-app' : 'android-app';
  if (kind === 'b2b') webKinds.sort((a, b) => Number(isMobile(a)) - Number(isMobile(b)));

  const sessionCount =
    kind === 'bouncer'
      ? rng.chance(0.1)
        ? 2
        : 1
      : kind === 'browser'
        ? Math.min(5, 1 + geometric(rng, 0.5))
        : kind === 'guest'
          ? rng.int(1, 3)
          : kind === 'customer'
            ? rng.int(2, 8)
            : rng.int(3, 10);
  const starts = sessionStarts(rng, window, sessionCount);
  const signUpAt = kind === 'customer' || kind === 'b2b' ? (rng.chance(0.6) ? 0 : Math.min(1, starts.length - 1)) : -1;
  const sessions: SessionPlan[] = starts.map((start, i) => {
    const device = i < webKinds.length ? i : rng.int(0, webKinds.length - 1);
    const registered = signUpAt >= 0 && i >= signUpAt;
    const s: SessionPlan = {
      device,
      start,
      campaign: !isApp(webKinds[device]) && rng.chance(0.25) ? rng.pick(CAMPAIGNS) : undefined,
      depth: kind === 'bouncer' ? (rng.chance(0.4) ? 1 : 0) : rng.int(1, 4),
      signUp: i === signUpAt,
      signIn: registered && rng.chance(0.85),
    };
    if (kind === 'browser' && rng.chance(0.35)) {
      s.cart = true;
      s.removeFromCart = rng.chance(0.3);
    }
    if (kind === 'guest') {
      if (i === starts.length - 1) s.buy = true;
      else s.cart = rng.chance(0.3);
    }
    if (kind === 'customer' && registered) {
      s.buy = rng.chance(0.4);
      s.removeFromCart = rng.chance(0.15);
      s.accountUpdate = rng.chance(0.04);
      s.signOut = !isMobile(webKinds[device]) && rng.chance(0.12);
    }
    if (kind === 'b2b' && registered) {
      s.requisition = i === signUpAt || rng.chance(0.25);
      s.removeFromRequisition = rng.chance(0.3);
      s.quote = i > signUpAt && rng.chance(0.3);
      s.buy = !s.quote && rng.chance(0.25);
      s.signOut = rng.chance(0.08);
    }
    return s;
  });
  const last = sessions[sessions.length - 1] as SessionPlan;
  if (kind === 'customer' && !sessions.some((s) => s.buy)) last.buy = true;
  if (kind === 'customer' && rng.chance(0.01)) last.deleteAccount = true;
  if (kind === 'guest' && rng.chance(0.2)) {
    // A guest who creates an account after the order, on the confirmation page.
    sessions.push({ device: last.device, start: last.start + 2 * TIME.DAY, depth: 1, signUp: true });
  }
  return {
    ...base,
    kind,
    company: kind === 'b2b' ? rng.pick(COMPANIES) : undefined,
    devices: devices(webKinds),
    sessions,
    forced: false,
  };
}

type ForcedPlan = Pick<VisitorPlan, 'kind' | 'devices' | 'sessions' | 'orderOutcomes' | 'company'>;

function forcedPlan(index: number, window: Window, devices: (kinds: DeviceKind[]) => DemoDevice[]): ForcedPlan | null {
  // Evenly spread over the window, so every session and back-office event fits even in 1 day.
  const spread = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const t = window.start + Math.floor(((i + 0.3) / n) * (window.end - window.start - 2 * TIME.HOUR));
      // Same day, at a busy hour, when that stays inside the window.
      const hour = [19, 12, 20, 9, 18, 21][i % 6] as number;
      const atHour = t - (t % TIME.DAY) + hour * TIME.HOUR + ((i * 7919) % 3600) * TIME.SECOND;
      return atHour >= window.start && atHour <= window.end - 2 * TIME.HOUR ? atHour : t;
    });
  const at = (starts: number[], i: number) => starts[i] as number;
  switch (index) {
    case 0: {
      // The showcase: signs up on an iPhone, then signs in on a Mac and in the iOS app.
      const s = spread(6);
      return {
        kind: 'customer',
        devices: devices(['iphone-safari', 'mac-chrome', 'ios-app']),
        orderOutcomes: ['shipped', 'shipped', 'shipped'],
        sessions: [
          { device: 0, start: at(s, 0), depth: 2, signUp: true, campaign: CAMPAIGNS[0] },
          { device: 1, start: at(s, 1), depth: 2, signIn: true, buy: true },
          { device: 2, start: at(s, 2), depth: 2, signIn: true, cart: true },
          { device: 0, start: at(s, 3), depth: 1, buy: true },
          { device: 1, start: at(s, 4), depth: 1, accountUpdate: true },
          { device: 2, start: at(s, 5), depth: 2, buy: true },
        ],
      };
    }
    case 1: {
      const s = spread(4);
      return {
        kind: 'b2b',
        company: COMPANIES[0],
        devices: devices(['windows-edge', 'iphone-safari']),
        orderOutcomes: ['shipped', 'cancelled'],
        sessions: [
          { device: 0, start: at(s, 0), depth: 1, signUp: true, requisition: true, removeFromRequisition: true },
          { device: 1, start: at(s, 1), depth: 2, signIn: true },
          { device: 0, start: at(s, 2), depth: 1, quote: true },
          { device: 0, start: at(s, 3), depth: 1, buy: true, signOut: true },
        ],
      };
    }
    case 2: {
      const s = spread(3);
      return {
        kind: 'customer',
        devices: devices(['android-chrome', 'windows-chrome']),
        orderOutcomes: ['refunded'],
        sessions: [
          { device: 0, start: at(s, 0), depth: 2, signUp: true, buy: true, removeFromCart: true },
          { device: 1, start: at(s, 1), depth: 2, signIn: true, signOut: true },
          { device: 0, start: at(s, 2), depth: 1, cart: true, removeFromCart: true },
        ],
      };
    }
    case 3: {
      const s = spread(3);
      return {
        kind: 'customer',
        devices: devices(['android-app', 'windows-firefox']),
        orderOutcomes: ['shipped'],
        sessions: [
          { device: 0, start: at(s, 0), depth: 2, signUp: true, buy: true },
          { device: 1, start: at(s, 1), depth: 1, signIn: true, accountUpdate: true },
          { device: 0, start: at(s, 2), depth: 1, deleteAccount: true },
        ],
      };
    }
    default:
      return null;
  }
}

/**
 * Session start times: a first visit on a random day, returns a few days apart, each at an
 * hour drawn from the daily rhythm; none later than an hour before the end of the window.
 */
function sessionStarts(rng: Random, window: Window, count: number): number[] {
  const hours = Array.from({ length: 24 }, (_, h) => h);
  const midnight = window.start - (window.start % TIME.DAY);
  const starts: number[] = [];
  let day = rng.int(0, window.days - 1);
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      const r = rng.next();
      day += r < 0.15 ? 0 : r < 0.6 ? rng.int(1, 3) : rng.int(4, 14);
    }
    if (day > window.days) break;
    let t = midnight + day * TIME.DAY + rng.weighted(hours, HOURLY_RHYTHM) * TIME.HOUR + rng.int(0, 3599) * TIME.SECOND;
    if (t < window.start) t += TIME.DAY;
    if (t > window.end - 2 * TIME.HOUR) {
      if (i > 0) break;
      t = Math.max(window.start, Math.min(t - TIME.DAY, window.end - 2 * TIME.HOUR));
    }
    starts.push(t);
  }
  return starts;
}

function geometric(rng: Random, p: number): number {
  let n = 0;
  while (n < 20 && !rng.chance(p)) n++;
  return n;
}

function isApp(kind: DeviceKind | undefined): boolean {
  return kind === 'ios-app' || kind === 'android-app';
}

function isMobile(kind: DeviceKind | undefined): boolean {
  return kind === 'iphone-safari' || kind === 'android-chrome' || kind === 'ipad-safari' || isApp(kind);
}
