import { z } from 'zod';
import { type VerifyWebhookOptions, verifyWebhook, webhookEnvelopeSchema } from '../commerce/activation.ts';
import { PROFILE_ERASED_TOPIC } from '../engine.ts';
import { AttuneError } from '../errors.ts';
import { type Fetch, FetchError, type Logger } from '../ports.ts';
import { zodIssues } from '../protocol/parse.ts';

/**
 * The destination's side of the downstream-erasure protocol (docs/privacy.md): read and verify
 * a `profile.erased` notice, say which identifiers it names, confirm the deletion back to Attune
 * with retries, and register the destination's activation. The CMS and commerce adapters call
 * these and only do their own deletes; the HMAC and the HTTP client come in as ports.
 */

export const erasureNoticeSchema = z.object({
  id: z.string().min(1),
  /** Null for erasures without a receipt (retention): nothing to confirm. */
  requestId: z.string().min(1).nullable(),
  profileId: z.string().min(1),
  profileIds: z.array(z.string().min(1)),
  identities: z.array(z.object({ type: z.string().min(1), value: z.string() })),
  at: z.string(),
  resendTo: z.string().optional(),
});

export type ErasureNoticeData = z.output<typeof erasureNoticeSchema>;

export interface ErasureDelivery {
  /** The `webhook-id`: the same on a retry of one delivery, new on a resend. */
  webhookId: string;
  notice: ErasureNoticeData;
}

/**
 * Verifies the Standard Webhooks signature, then reads the erasure notice. Null for other topics
 * (test pings, membership changes). Throws UNAUTHENTICATED for a bad signature, VALIDATION for
 * a body that is not a notice, each saying what was wrong.
 */
export function readErasureDelivery(options: VerifyWebhookOptions): ErasureDelivery | null {
  verifyWebhook(options);
  let json: unknown;
  try {
    json = JSON.parse(options.body);
  } catch {
    throw new AttuneError('VALIDATION', 'erasure notice: the body is not JSON');
  }
  const envelope = webhookEnvelopeSchema.safeParse(json);
  if (!envelope.success) throw invalid(envelope.error, []);
  if (envelope.data.type !== PROFILE_ERASED_TOPIC) return null;
  const notice = erasureNoticeSchema.safeParse(envelope.data.data);
  if (!notice.success) throw invalid(notice.error, ['data']);
  return { webhookId: options.headers.id as string, notice: notice.data };
}

function invalid(error: z.ZodError, prefix: string[]): AttuneError {
  const issues = zodIssues(error, prefix);
  return new AttuneError('VALIDATION', `erasure notice: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}

export interface ErasedIdentifiers {
  /** Lower-cased, trimmed. */
  emails: string[];
  userIds: string[];
  anonymousIds: string[];
  profileIds: string[];
  /** Every identity's value by its type (external ids such as `vendure_customer_id`). */
  byType: Record<string, string[]>;
}

/** The notice's identifiers grouped by what a host can look them up by. */
export function erasedIdentifiers(notice: ErasureNoticeData): ErasedIdentifiers {
  const byType: Record<string, string[]> = {};
  for (const i of notice.identities) {
    const value = i.type === 'email' ? i.value.trim().toLowerCase() : i.value;
    const list = (byType[i.type] ??= []);
    if (!list.includes(value)) list.push(value);
  }
  return {
    emails: byType.email ?? [],
    userIds: byType.userId ?? [],
    anonymousIds: byType.anonymousId ?? [],
    profileIds: [...new Set([notice.profileId, ...notice.profileIds])],
    byType,
  };
}

/**
 * Whether a Segment call (as an adapter queues it for Attune) is about an erased person: by its
 * userId, anonymousId, or the email in its traits or properties.
 */
export function callMentions(call: unknown, ids: ErasedIdentifiers, extraUserIds: readonly string[] = []): boolean {
  if (call === null || typeof call !== 'object') return false;
  const c = call as { userId?: unknown; anonymousId?: unknown; traits?: { email?: unknown }; properties?: { email?: unknown }; context?: { traits?: { email?: unknown } } };
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
  const userId = text(c.userId);
  if (userId !== null && (ids.userIds.includes(userId) || extraUserIds.includes(userId))) return true;
  const anonymousId = text(c.anonymousId);
  if (anonymousId !== null && ids.anonymousIds.includes(anonymousId)) return true;
  return [c.traits?.email, c.properties?.email, c.context?.traits?.email].some((e) => typeof e === 'string' && ids.emails.includes(e.trim().toLowerCase()));
}

export interface ErasureConfirmerOptions {
  /** Base URL of the Attune server. */
  url: string;
  /** A secret key; the `marketer` role is enough. */
  secretKey: string;
  /** The activation this destination registered: the receipt's target is `activation:<id>`. */
  activationId: string;
  fetch: Fetch;
  /** Waits between attempts (the core has no timers of its own). */
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
  /** Attempts before giving up; Attune resends an unconfirmed notice later anyway. Default 6. */
  attempts?: number;
  /** First retry delay, doubled per attempt up to maxDelayMs. Defaults 1 s and 60 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
}

export type ConfirmOutcome =
  | { status: 'confirmed'; attempts: number; receiptStatus: string }
  /** Attune does not know the request or this target (404): retrying cannot help. */
  | { status: 'unknown'; attempts: number; error: string }
  | { status: 'failed'; attempts: number; error: string };

export interface ErasureConfirmer {
  /** `POST /v1/privacy/requests/{requestId}/confirmations`, retried on network errors, 408, 429 and 5xx. Never throws. */
  confirm(requestId: string, details: Record<string, unknown>): Promise<ConfirmOutcome>;
}

export function createErasureConfirmer(options: ErasureConfirmerOptions): ErasureConfirmer {
  const base = options.url.replace(/\/+$/, '');
  const maxAttempts = options.attempts ?? 6;
  const baseDelay = options.baseDelayMs ?? 1000;
  const maxDelay = options.maxDelayMs ?? 60_000;
  const target = `activation:${options.activationId}`;
  return {
    async confirm(requestId, details) {
      const path = `/v1/privacy/requests/${encodeURIComponent(requestId)}/confirmations`;
      let error = '';
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        let retryable = true;
        try {
          const res = await options.fetch({
            url: base + path,
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${options.secretKey}`, 'user-agent': 'attune-erasure/1' },
            body: JSON.stringify({ target, details }),
            timeoutMs: options.timeoutMs ?? 15_000,
            maxBytes: 1024 * 1024,
          });
          if (res.status >= 200 && res.status < 300) {
            const receipt = JSON.parse(res.body) as { status?: unknown };
            return { status: 'confirmed', attempts: attempt, receiptStatus: String(receipt.status) };
          }
          error = `POST ${path}: HTTP ${res.status} ${res.body.slice(0, 300)}`;
          if (res.status === 404) return { status: 'unknown', attempts: attempt, error };
          retryable = res.status === 408 || res.status === 429 || res.status >= 500;
        } catch (e) {
          error = `POST ${path}: no answer from ${base} (${e instanceof Error ? e.message : String(e)})`;
        }
        if (!retryable) break;
        if (attempt < maxAttempts) {
          const delay = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
          options.logger.warn({ requestId, attempt, retryInMs: delay, error }, 'erasure confirmation failed; will retry');
          await options.sleep(delay);
        }
      }
      options.logger.error({ requestId, error }, 'erasure confirmation failed; Attune will resend the notice');
      return { status: 'failed', attempts: maxAttempts, error };
    },
  };
}

export interface ErasureActivationOptions {
  url: string;
  /** A secret key allowed to manage activations (marketer or admin). */
  secretKey: string;
  fetch: Fetch;
  activation: { id: string; name: string; url: string };
  timeoutMs?: number;
}

export type ErasureActivationResult =
  /** Created now: `secret` is shown this once; keep it to verify notices. */
  | { status: 'created'; secret: string }
  | { status: 'updated' | 'unchanged' };

/**
 * Registers (or brings up to date) the activation a destination receives erasure notices on:
 * `erasureConfirmation: "callback"`, its URL, and only the erasure topic. Idempotent: an existing
 * activation keeps its secret, which Attune shows only when it is created.
 */
export async function ensureErasureActivation(options: ErasureActivationOptions): Promise<ErasureActivationResult> {
  const base = options.url.replace(/\/+$/, '');
  const path = `/v1/activations/${encodeURIComponent(options.activation.id)}`;
  const call = async (method: string, url: string, body?: unknown) => {
    const request = {
      url: base + url,
      method,
      headers: { authorization: `Bearer ${options.secretKey}`, 'content-type': 'application/json', 'user-agent': 'attune-erasure/1' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      timeoutMs: options.timeoutMs ?? 15_000,
      maxBytes: 1024 * 1024,
    };
    let res: Awaited<ReturnType<Fetch>>;
    try {
      res = await options.fetch(request);
    } catch (error) {
      // A kept-alive connection Attune closed while idle fails at once, before anything was sent: once more.
      if (!(error instanceof FetchError && error.code === 'NETWORK')) throw error;
      res = await options.fetch(request);
    }
    return { status: res.status, json: (res.body ? JSON.parse(res.body) : null) as Record<string, unknown> | null, text: res.body };
  };
  const wanted = { name: options.activation.name, url: options.activation.url, topics: [PROFILE_ERASED_TOPIC], erasureConfirmation: 'callback', enabled: true };
  const current = await call('GET', path);
  if (current.status === 404) {
    const created = await call('POST', '/v1/activations', { id: options.activation.id, ...wanted });
    if (created.status !== 201) throw new AttuneError('UNAVAILABLE', `POST /v1/activations answered ${created.status}: ${created.text.slice(0, 300)}`);
    return { status: 'created', secret: String(created.json?.secret) };
  }
  if (current.status !== 200 || !current.json) throw new AttuneError('UNAVAILABLE', `GET ${path} answered ${current.status}: ${current.text.slice(0, 300)}`);
  const a = current.json;
  const same = a.url === wanted.url && a.erasureConfirmation === 'callback' && a.enabled === true;
  if (same) return { status: 'unchanged' };
  const { secret: _s, createdAt: _c, updatedAt: _u, ...rest } = a;
  const updated = await call('PUT', path, { ...rest, url: wanted.url, erasureConfirmation: 'callback', enabled: true });
  if (updated.status !== 200) throw new AttuneError('UNAVAILABLE', `PUT ${path} answered ${updated.status}: ${updated.text.slice(0, 300)}`);
  return { status: 'updated' };
}
