/**
 * Attune's browser tracker: a Segment-style API (page, track, identify, group, alias, reset)
 * with a first-party anonymous-id cookie, batching to /v1/batch, beacons on page hide, retries
 * with backoff, an offline queue in localStorage, consent by purpose, and automatic page views
 * (also for single-page-app route changes). No dependencies: it must stay under 8 KB gzipped.
 */

export type Purpose = 'necessary' | 'analytics' | 'personalization' | 'marketing';
export type Consent = Record<Purpose, boolean>;
type Json = Record<string, unknown>;

export interface TrackerOptions {
  writeKey: string;
  /** Attune's URL, e.g. https://attune.example.com (default: this page's origin). */
  apiHost?: string;
  cookie?: { name?: string; domain?: string; sameSite?: 'Lax' | 'Strict' | 'None'; maxAgeDays?: number };
  /** Send when this many calls wait (default 20) or after this delay (default 1000 ms). */
  flushAt?: number;
  flushIntervalMs?: number;
  retry?: { maxAttempts?: number; baseDelayMs?: number };
  /**
   * Consent by purpose. With `required`, only the purposes in `defaults` (always `necessary`) are
   * allowed until the visitor or a consent platform calls `consent.set()`.
   */
  consent?: { required?: boolean; defaults?: Partial<Consent> };
  /** Page views on load and on history changes (default true). */
  autoPage?: boolean;
  /** Prefix of the localStorage keys (default "attune"). */
  storagePrefix?: string;
}

export interface CallOptions {
  /** The purpose a call serves (default analytics). */
  purpose?: Purpose;
  timestamp?: Date;
  context?: Json;
}

interface Queued {
  msg: Json;
  attempts: number;
}

const PURPOSES: Purpose[] = ['necessary', 'analytics', 'personalization', 'marketing'];
const MAX_QUEUE = 1000;
const BEACON_LIMIT = 60_000;

function uuid(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (ch) => {
    const r = (Math.random() * 16) | 0;
    return (ch === 'x' ? r : (r & 3) | 8).toString(16);
  });
}

export class Tracker {
  private readonly o: Required<Pick<TrackerOptions, 'writeKey' | 'apiHost' | 'flushAt' | 'flushIntervalMs' | 'storagePrefix'>> & TrackerOptions;
  private queue: Queued[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending = false;
  private consentState: Consent;
  private listeners: Array<(c: Consent) => void> = [];
  private lastPage = '';

  constructor(options: TrackerOptions) {
    this.o = {
      apiHost: location.origin,
      flushAt: 20,
      flushIntervalMs: 1000,
      storagePrefix: 'attune',
      ...options,
    };
    const stored = this.read<Consent>('consent');
    const required = options.consent?.required === true;
    this.consentState = stored ?? {
      necessary: true,
      analytics: !required,
      personalization: !required,
      marketing: !required,
      ...options.consent?.defaults,
    };
    this.consentState.necessary = true;
    // What an earlier page could not send goes out once now; the server drops repeated messageIds.
    this.queue = (this.read<Queued[]>('queue') ?? []).filter((q) => q?.msg && typeof q.msg.messageId === 'string');
    if (this.queue.length > 0) this.schedule(0);
    addEventListener('pagehide', () => this.flushOnHide());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.flushOnHide();
    });
    addEventListener('online', () => this.schedule(0));
    if (options.autoPage !== false) this.watchPages();
  }

  // ---- the Segment-style API --------------------------------------------------------------

  page(name?: string, properties: Json = {}, options: CallOptions = {}): void {
    this.lastPage = location.pathname + location.search;
    const props = { path: location.pathname, url: location.href, title: document.title, referrer: document.referrer, search: location.search, ...properties };
    this.enqueue({ type: 'page', ...(name ? { name } : {}), properties: props }, options);
  }

  track(event: string, properties: Json = {}, options: CallOptions = {}): void {
    this.enqueue({ type: 'track', event, properties }, options);
  }

  identify(userId?: string | null, traits: Json = {}, options: CallOptions = {}): void {
    if (!this.allowed(options.purpose ?? 'analytics')) return;
    if (userId) this.write('uid', userId);
    this.enqueue({ type: 'identify', traits }, options);
  }

  group(groupId: string, traits: Json = {}, options: CallOptions = {}): void {
    this.enqueue({ type: 'group', groupId, traits }, options);
  }

  alias(userId: string, previousId?: string, options: CallOptions = {}): void {
    if (!this.allowed(options.purpose ?? 'analytics')) return;
    const prev = previousId ?? this.userId() ?? this.anonymousId();
    this.write('uid', userId);
    this.enqueue({ type: 'alias', previousId: prev }, options);
  }

  /** Forgets the visitor on this device (sign-out): a new anonymous id, no user id. */
  reset(): void {
    this.remove('uid');
    this.setCookie('', -1);
  }

  /** The ids a decision request needs. */
  user(): { anonymousId: string | null; userId: string | null } {
    return { anonymousId: this.consentState.analytics || this.consentState.personalization ? this.anonymousId() : null, userId: this.userId() };
  }

  // ---- consent ----------------------------------------------------------------------------

  readonly consent = {
    get: (): Consent => ({ ...this.consentState }),
    /** Sets some purposes; the change is recorded as a "Consent Updated" event. */
    set: (purposes: Partial<Consent>): void => {
      const before = this.consentState;
      const next: Consent = { ...before, ...purposes, necessary: true };
      this.consentState = next;
      this.write('consent', next);
      this.enqueue({ type: 'track', event: 'Consent Updated', properties: { purposes: next } }, { purpose: 'necessary' });
      if (!next.analytics && !next.personalization) {
        // Withdrawn: nothing else is sent, and the identifiers go; the consent record itself is sent first.
        this.queue = this.queue.filter((q) => q.msg.event === 'Consent Updated');
        void this.flush().finally(() => {
          this.remove('uid');
          this.setCookie('', -1);
        });
      }
      for (const l of this.listeners) l({ ...next });
    },
    onChange: (listener: (c: Consent) => void): void => {
      this.listeners.push(listener);
    },
  };

  allowed(purpose: Purpose): boolean {
    return this.consentState[purpose] === true;
  }

  // ---- delivery ---------------------------------------------------------------------------

  /** Sends what waits now; resolves when the server acknowledged it or it was kept for later. */
  async flush(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.queue.slice(0, 100);
    const sentAt = new Date().toISOString();
    try {
      const res = await fetch(`${this.o.apiHost}/v1/batch`, {
        method: 'POST',
        // text/plain keeps the request simple: no CORS preflight.
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ batch: items.map((q) => q.msg), sentAt, writeKey: this.o.writeKey }),
        keepalive: true,
      });
      if (res.ok || (res.status >= 400 && res.status < 500 && res.status !== 429)) {
        // Accepted, or refused for good (a retry would be refused again).
        this.drop(items);
      } else this.failed(items);
    } catch {
      this.failed(items);
    } finally {
      this.sending = false;
    }
    if (this.queue.length > 0 && this.timer === undefined) this.schedule(this.o.flushIntervalMs);
  }

  private enqueue(partial: Json, options: CallOptions): void {
    const purpose = options.purpose ?? 'analytics';
    if (!this.allowed(purpose)) return;
    const msg: Json = {
      ...partial,
      messageId: uuid(),
      anonymousId: this.anonymousId(),
      timestamp: (options.timestamp ?? new Date()).toISOString(),
      context: { page: { path: location.pathname, url: location.href, referrer: document.referrer, title: document.title }, userAgent: navigator.userAgent, locale: navigator.language, library: { name: '@attune/tracker', version: '0.1.0' }, consent: { purposes: { ...this.consentState } }, ...options.context },
    };
    const uid = this.userId();
    if (uid) msg.userId = uid;
    this.queue.push({ msg, attempts: 0 });
    if (this.queue.length > MAX_QUEUE) this.queue.splice(0, this.queue.length - MAX_QUEUE);
    this.persist();
    if (this.queue.length >= this.o.flushAt) void this.flush();
    else if (this.timer === undefined) this.schedule(this.o.flushIntervalMs);
  }

  private failed(items: Queued[]): void {
    const max = this.o.retry?.maxAttempts ?? 8;
    let attempts = 0;
    for (const q of items) attempts = Math.max(attempts, ++q.attempts);
    this.persist();
    if (attempts >= max) return; // kept in localStorage: the next page load tries again
    const base = this.o.retry?.baseDelayMs ?? 500;
    this.schedule(Math.min(60_000, base * 2 ** (attempts - 1)) * (0.5 + Math.random()));
  }

  private drop(items: Queued[]): void {
    const ids = new Set(items.map((q) => q.msg.messageId));
    this.queue = this.queue.filter((q) => !ids.has(q.msg.messageId));
    this.persist();
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private flushOnHide(): void {
    if (this.queue.length === 0) return;
    const items = this.queue.slice(0, 100);
    const body = JSON.stringify({ batch: items.map((q) => q.msg), sentAt: new Date().toISOString(), writeKey: this.o.writeKey });
    const url = `${this.o.apiHost}/v1/batch`;
    if (body.length < BEACON_LIMIT && navigator.sendBeacon?.(url, new Blob([body], { type: 'text/plain' }))) this.drop(items);
    else void fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body, keepalive: true }).then((r) => r.ok && this.drop(items), () => undefined);
  }

  private watchPages(): void {
    const changed = () => {
      if (location.pathname + location.search !== this.lastPage) this.page();
    };
    for (const m of ['pushState', 'replaceState'] as const) {
      const original = history[m];
      history[m] = function (this: History, ...args: Parameters<History['pushState']>) {
        const r = original.apply(this, args);
        queueMicrotask(changed);
        return r;
      };
    }
    addEventListener('popstate', changed);
    this.page();
  }

  // ---- identity and storage ---------------------------------------------------------------

  anonymousId(): string {
    const name = this.o.cookie?.name ?? 'attune_aid';
    const m = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
    if (m?.[1]) return decodeURIComponent(m[1]);
    const id = uuid();
    if (this.consentState.analytics || this.consentState.personalization) this.setCookie(id, this.o.cookie?.maxAgeDays ?? 365);
    return id;
  }

  userId(): string | null {
    return this.read<string>('uid');
  }

  private setCookie(value: string, days: number): void {
    const c = this.o.cookie ?? {};
    const sameSite = c.sameSite ?? 'Lax';
    document.cookie =
      `${c.name ?? 'attune_aid'}=${encodeURIComponent(value)}; Path=/; Max-Age=${Math.round(days * 86400)}; SameSite=${sameSite}` +
      (c.domain ? `; Domain=${c.domain}` : '') +
      (sameSite === 'None' || location.protocol === 'https:' ? '; Secure' : '');
  }

  private persist(): void {
    this.write('queue', this.queue);
  }

  private read<T>(key: string): T | null {
    try {
      const raw = localStorage.getItem(`${this.o.storagePrefix}.${key}`);
      return raw === null ? null : (JSON.parse(raw) as T);
    } catch {
      return null;
    }
  }

  private write(key: string, value: unknown): void {
    try {
      localStorage.setItem(`${this.o.storagePrefix}.${key}`, JSON.stringify(value));
    } catch {
      // Storage full or disabled: delivery still works in memory.
    }
  }

  private remove(key: string): void {
    try {
      localStorage.removeItem(`${this.o.storagePrefix}.${key}`);
    } catch {
      // nothing stored
    }
  }
}

export function createTracker(options: TrackerOptions): Tracker {
  return new Tracker(options);
}

export { PURPOSES };
