/**
 * The environment reaches the core only through these ports, so the same engine runs in
 * Node, in a browser and at the edge.
 */
export interface Clock {
  now(): number;
  /** Runs `fn` soon, after pending I/O callbacks (setImmediate in Node, setTimeout(0) elsewhere). */
  defer(fn: () => void): void;
}

export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

const ULID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * Sortable unique ids (ULID layout: 48-bit time, 80 random bits). Hosts may pass a
 * cryptographic generator; ids here only need to be unique, not secret.
 */
export function createIdGenerator(clock: Pick<Clock, 'now'>, random: () => number = Math.random): () => string {
  return () => {
    let time = clock.now();
    let timePart = '';
    for (let i = 0; i < 10; i++) {
      timePart = ULID_ALPHABET[time % 32] + timePart;
      time = Math.floor(time / 32);
    }
    let randomPart = '';
    for (let i = 0; i < 16; i++) randomPart += ULID_ALPHABET[Math.floor(random() * 32)];
    return timePart + randomPart;
  };
}

/** One HTTP request for an external data connector. */
export interface FetchRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The caller's budget: the port should abort by then (the core also stops waiting). */
  timeoutMs: number;
  /** Bytes of body to read at most; more is an error. */
  maxBytes: number;
}

export interface FetchResponse {
  status: number;
  body: string;
}

/**
 * HTTP client port (the server passes one built on Node's fetch). Any status is an answer;
 * a request that gets none rejects, preferably with a FetchError saying why.
 */
export type Fetch = (request: FetchRequest) => Promise<FetchResponse>;

/** Why a Fetch port got no answer: the core records the code in traces and metrics. */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  /** FORBIDDEN: the host is not allowed (allow-list, or an internal address). */
  readonly code: 'TIMEOUT' | 'TOO_LARGE' | 'NETWORK' | 'FORBIDDEN';
  constructor(code: FetchError['code'], message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Timer port: the core's own timeouts, without touching the runtime's globals. */
export interface Timers {
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}
