import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { type Fetch, FetchError, type Timers } from '@attune/core';
import { Agent, type Dispatcher, fetch as undiciFetch } from 'undici';

/**
 * The connectors' HTTP port on Node's fetch (undici): aborts at the budget, headers and body
 * included, and stops reading a body past `maxBytes` instead of buffering it whole. Errors are
 * FetchErrors whose messages name no host (they can reach a decision's trace); the cause keeps
 * undici's detail for the log.
 */
export const nodeFetch: Fetch = (request) => fetchWith(request, 'follow');

async function fetchWith(request: Parameters<Fetch>[0], redirect: 'follow' | 'manual', dispatcher?: Dispatcher): ReturnType<Fetch> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const init = {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal,
      redirect,
    };
    // With a dispatcher, undici's own fetch (the global one may be another undici version).
    const res = dispatcher ? await undiciFetch(request.url, { ...init, dispatcher }) : await fetch(request.url, init);
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > request.maxBytes) {
      await res.body?.cancel();
      throw tooLarge(request.maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > request.maxBytes) {
          await reader.cancel();
          throw tooLarge(request.maxBytes);
        }
        chunks.push(value);
      }
    }
    return { status: res.status, body: Buffer.concat(chunks).toString('utf8') };
  } catch (e) {
    if (e instanceof FetchError) throw e;
    // Refused at connect time by the guard's lookup: undici wraps the error.
    if ((e as { cause?: unknown } | null)?.cause instanceof FetchError) throw (e as { cause: FetchError }).cause;
    if (signal.aborted) throw new FetchError('TIMEOUT', `no answer within ${request.timeoutMs} ms`, { cause: e });
    throw new FetchError('NETWORK', 'the connection failed or closed before a complete answer', { cause: e });
  }
}

/** Where connectors may go. */
export interface ConnectorHostPolicy {
  /** Host names (`api.example.com`, `*.example.com`) connectors may call; absent: any public host. A listed host may be internal. */
  allowHosts?: string[];
}

/** Loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast and reserved ranges. */
const INTERNAL = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) INTERNAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) INTERNAL.addSubnet(net, bits, 'ipv6');

export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return INTERNAL.check(mapped[1] as string, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function hostAllowed(host: string, allow: string[]): boolean {
  return allow.some((a) => {
    const p = a.toLowerCase();
    return p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p;
  });
}

/** How host names are resolved (node:dns's lookup); tests pass their own to stand in for a DNS server. */
export type HostLookup = (hostname: string, callback: (error: Error | null, addresses: LookupAddress[]) => void) => void;

const systemLookup: HostLookup = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/**
 * The socket's lookup for connectors: resolves the name when the connection is made and refuses
 * it if any address is internal (unless the host is listed by name), so the address connected
 * to is the one checked and a DNS answer changing after a check (rebinding) cannot slip through.
 */
function guardedLookup(resolve: HostLookup, listed: (host: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (error, addresses) => {
      const wanted = addresses?.filter((a) => !options.family || a.family === options.family) ?? [];
      if (error || wanted.length === 0) {
        callback(new FetchError('NETWORK', 'the host name did not resolve', { cause: error ?? undefined }), '', 4);
        return;
      }
      if (!listed(hostname.toLowerCase()) && wanted.some((a) => isInternalAddress(a.address))) {
        callback(new FetchError('FORBIDDEN', 'the host resolves to an internal address'), '', 4);
        return;
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
      else callback(null, (wanted[0] as LookupAddress).address, (wanted[0] as LookupAddress).family);
    });
  };
}

/**
 * The connectors' HTTP port with server-side request forgery covered: only http(s), only
 * allow-listed hosts when a list is set, never an internal address (loopback, private,
 * link-local metadata…) unless the host is listed by name, and redirects are not followed
 * (a 3xx is the answer), so an allowed host cannot bounce a request inside. Names are checked
 * at connect time, on the addresses the socket then uses.
 */
export function createGuardedFetch(policy: ConnectorHostPolicy = {}, options: { lookup?: HostLookup; label?: string } = {}): Fetch {
  const listed = (host: string) => policy.allowHosts !== undefined && hostAllowed(host, policy.allowHosts);
  const agent = new Agent({ connect: { lookup: guardedLookup(options.lookup ?? systemLookup, listed) } });
  return async (request) => {
    const refused = refusedUrl(request.url, policy, options.label ?? 'connectors');
    if (refused) throw new FetchError('FORBIDDEN', refused);
    return fetchWith(request, 'manual', agent);
  };
}

/**
 * Why a URL may not be called under `policy`, checked without resolving its name (the guarded
 * fetch checks the resolved addresses again when it connects); null when it may. `label` names
 * the allow-list in the message ("connectors", "webhooks").
 */
export function refusedUrl(raw: string, policy: ConnectorHostPolicy, label: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'the URL is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `scheme ${url.protocol} is not allowed`;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const listed = policy.allowHosts !== undefined && hostAllowed(host, policy.allowHosts);
  if (policy.allowHosts !== undefined && !listed) return `the host is not on the ${label} allow-list`;
  // An address in the URL is never looked up: it is checked here. So is `localhost`, which
  // every resolver answers with loopback.
  if (!listed && (isIP(host) !== 0 ? isInternalAddress(host) : host === 'localhost' || host.endsWith('.localhost'))) {
    return `the host resolves to an internal address (list it in the ${label} allow-list to call it)`;
  }
  return null;
}

function tooLarge(maxBytes: number): FetchError {
  return new FetchError('TOO_LARGE', `response over ${maxBytes} bytes`);
}

export const nodeTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
