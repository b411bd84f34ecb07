import { z } from 'zod';
import { MEMBERSHIP_TOPIC } from '../audiences/apply.ts';
import { AttuneError } from '../errors.ts';
import { parseCommerce } from './shapes.ts';

/**
 * Receiving Attune's activation webhooks in a commerce backend: verify the Standard Webhooks
 * signature, read the membership change, and decide which customer group it adds the
 * customer to or removes them from. The adapter does the HMAC (the core has no crypto) and
 * the group write.
 */

export const webhookEnvelopeSchema = z.object({
  type: z.string().min(1),
  timestamp: z.string(),
  data: z.unknown(),
});

export const membershipChangeSchema = z.object({
  id: z.string().min(1),
  audienceId: z.string().min(1),
  profileId: z.string().min(1),
  change: z.enum(['entered', 'exited']),
  at: z.string(),
  mergedInto: z.string().optional(),
});

export type MembershipWebhook = z.output<typeof membershipChangeSchema>;

export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export interface VerifyWebhookOptions {
  headers: WebhookHeaders;
  /** The raw body, exactly as received. */
  body: string;
  /** Seconds since the epoch. */
  now: number;
  /** base64 HMAC-SHA256 of `content`, keyed with the activation secret's bytes (the base64 after `whsec_`). */
  sign: (content: string) => string;
  /** Oldest and furthest-in-the-future timestamp accepted, in seconds. Default 300. */
  toleranceSec?: number;
}

/** Constant-time string comparison (the lengths are not secret). */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks `webhook-signature` (`v1,<base64>`, several separated by spaces during a secret
 * rotation) over `id.timestamp.body`, and that the timestamp is recent (replays of old
 * deliveries are refused). Throws UNAUTHENTICATED saying what was wrong.
 */
export function verifyWebhook(options: VerifyWebhookOptions): void {
  const { headers, body, now } = options;
  if (!headers.id || !headers.timestamp || !headers.signature) {
    throw new AttuneError('UNAUTHENTICATED', 'webhook: webhook-id, webhook-timestamp and webhook-signature headers are required');
  }
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts)) throw new AttuneError('UNAUTHENTICATED', `webhook: webhook-timestamp "${headers.timestamp}" is not a number of seconds`);
  const tolerance = options.toleranceSec ?? 300;
  if (Math.abs(now - ts) > tolerance) throw new AttuneError('UNAUTHENTICATED', `webhook: timestamp ${ts} is more than ${tolerance} s away from now (${now})`);
  const expected = options.sign(`${headers.id}.${ts}.${body}`);
  const given = headers.signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3));
  if (!given.some((s) => sameText(s, expected))) throw new AttuneError('UNAUTHENTICATED', 'webhook: signature does not match the body (wrong secret?)');
}

/** The membership change a verified delivery carries, or null for other topics (test pings). */
export function readMembershipWebhook(body: string): MembershipWebhook | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new AttuneError('VALIDATION', 'webhook: body is not JSON');
  }
  const envelope = parseCommerce(webhookEnvelopeSchema, json, 'webhook');
  if (envelope.type !== MEMBERSHIP_TOPIC) return null;
  return parseCommerce(membershipChangeSchema, envelope.data, 'webhook data');
}

export interface AudienceGroupOptions {
  /** Audience id → customer group name. Unlisted audiences are ignored unless `prefix` is set. */
  groups?: Record<string, string>;
  /** Audiences not in `groups` go to a group named prefix + audience id ('attune:'). */
  prefix?: string;
}

export interface GroupAction {
  action: 'add' | 'remove';
  group: string;
}

/** Which group a membership change adds to or removes from; null when the audience is not activated here. */
export function audienceGroupAction(change: MembershipWebhook, options: AudienceGroupOptions): GroupAction | null {
  const group = options.groups?.[change.audienceId] ?? (options.prefix !== undefined ? `${options.prefix}${change.audienceId}` : undefined);
  if (group === undefined) return null;
  return { action: change.change === 'entered' ? 'add' : 'remove', group };
}

/**
 * The backend customer ids a profile holds (its userId and `<source>_customer_id` identities). A
 * blind-indexed id (its type protected by privacy.fields) names no customer in the backend.
 */
export function customerIdsOfProfile(profile: { identities: Array<{ type: string; value: string; blind?: boolean }> }, customerIdType: string): string[] {
  const of = (type: string) => profile.identities.filter((i) => i.type === type && i.blind !== true).map((i) => i.value);
  const ids = of(customerIdType);
  return ids.length > 0 ? ids : of('userId');
}
