import { createHmac } from 'node:crypto';
import { AttuneError, audienceGroupAction, customerIdsOfProfile, readErasureDelivery, readMembershipWebhook, type WebhookHeaders } from '@attune/core';
import type { MedusaContainer } from '@medusajs/framework/types';
import { type ErasureOutcome, handleErasure } from './erasure.ts';
import { attuneRuntime } from './runtime.ts';
import { attuneAudienceGroupWorkflow } from './workflows/audience-group.ts';

export interface ActivationOutcome {
  status: 'applied' | 'ignored';
  reason?: string;
  action?: 'add' | 'remove';
  group?: string;
  customerIds?: string[];
}

/**
 * Verifies one activation webhook delivery and applies it: a membership change to the mapped
 * customer group (through the workflow), an erasure notice to what Attune put in Medusa.
 */
export async function handleActivation(container: MedusaContainer, headers: WebhookHeaders, body: string): Promise<ActivationOutcome | ErasureOutcome> {
  const { options, client, mapper } = attuneRuntime(container);
  const { activation } = options;
  if (!activation.secret) throw new AttuneError('NOT_FOUND', 'activation webhooks are not enabled (activation.secret is not configured)');
  const key = Buffer.from(activation.secret.slice('whsec_'.length), 'base64');
  const erasure = readErasureDelivery({ headers, body, now: Math.floor(Date.now() / 1000), toleranceSec: activation.toleranceSec, sign: (content) => createHmac('sha256', key).update(content).digest('base64') });
  if (erasure) return handleErasure(container, erasure);
  const change = readMembershipWebhook(body);
  if (!change) return { status: 'ignored', reason: 'not a membership change' };
  const action = audienceGroupAction(change, activation);
  if (!action) return { status: 'ignored', reason: `audience "${change.audienceId}" is not mapped to a customer group` };
  const profile = await client.profile(change.mergedInto ?? change.profileId);
  const customerIds = profile ? customerIdsOfProfile(profile, mapper.customerIdType) : [];
  if (customerIds.length === 0) return { status: 'ignored', reason: `profile ${change.profileId} is not a customer of this shop`, ...action };
  const { result } = await attuneAudienceGroupWorkflow(container).run({ input: { ...action, customerIds } });
  return { status: 'applied', ...action, customerIds: result.changed };
}
