import { createHmac, randomBytes } from 'node:crypto';
import { type ActivationInput, AttuneError, activationInputSchema, type ConfigDocument, type ErasureDestination, type OutboxEntry, PROFILE_ERASED_TOPIC, type Store, zodIssues } from '@attune/core';

export const ACTIVATION_KIND = 'activation';
export const TEST_TOPIC = 'test';

/** A stored activation: the input plus its signing secret (kept to sign, shown once). */
export interface Activation extends ActivationInput {
  secret: string;
}

export function consumerOf(activationId: string): string {
  return `activation:${activationId}`;
}

/** Validates an activation; its `purpose` must be one of the configured consent purposes. */
export function parseActivation(input: unknown, purposes: readonly string[]): ActivationInput {
  const r = activationInputSchema.safeParse(input);
  if (!r.success) {
    const issues = zodIssues(r.error);
    throw new AttuneError('VALIDATION', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
  }
  if (!purposes.includes(r.data.purpose)) {
    const message = `unknown purpose "${r.data.purpose}" (configured purposes: ${purposes.join(', ')})`;
    throw new AttuneError('VALIDATION', `purpose: ${message}`, { issues: [{ path: 'purpose', message }] });
  }
  return r.data;
}

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The activation as the API shows it: the secret only by its last characters. */
export function activationView(doc: ConfigDocument, revealSecret = false) {
  const a = doc.body as Activation;
  return {
    ...a,
    secret: revealSecret ? a.secret : `whsec_…${a.secret.slice(-4)}`,
    version: doc.version,
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
  };
}

/** Whether an outbox entry is for this activation (topic, audience filter, test pings). */
export function wants(a: Activation, e: OutboxEntry): boolean {
  const payload = (e.payload ?? {}) as { audienceId?: string; activationId?: string; resendTo?: string };
  if (e.topic === TEST_TOPIC) return payload.activationId === a.id;
  // Every destination may hold a copy, so every one gets erasure notices (a resend goes to one).
  if (e.topic === PROFILE_ERASED_TOPIC) return payload.resendTo === undefined || payload.resendTo === a.id;
  if (!a.topics.includes(e.topic)) return false;
  return !a.audienceIds || (payload.audienceId !== undefined && a.audienceIds.includes(payload.audienceId));
}

/**
 * Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 * keyed with the secret's bytes (the base64 after `whsec_`).
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The delivery id of an entry for an activation: the same on every retry and after a restart. */
export function deliveryId(activationId: string, e: OutboxEntry): string {
  const id = (e.payload as { id?: unknown } | null)?.id;
  return `${activationId}:${typeof id === 'string' ? id : `seq-${e.seq}`}`;
}

export async function listActivations(store: Store): Promise<Activation[]> {
  return (await store.docs.list(ACTIVATION_KIND)).map((d) => d.body as Activation);
}

/** The destinations an erasure must reach: every enabled activation. */
export async function erasureDestinations(store: Store): Promise<ErasureDestination[]> {
  return (await listActivations(store)).filter((a) => a.enabled).map((a) => ({ id: a.id, confirm: a.erasureConfirmation ?? 'delivery' }));
}
