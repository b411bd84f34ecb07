import { callMentions, type ErasureConfirmer, type ErasureDelivery, erasedIdentifiers } from '@attune/core';
import { Customer, CustomerGroup, type CustomerGroupService, Logger, Order, type RequestContext, type TransactionalConnection } from '@vendure/core';
import { In, IsNull, MoreThan } from 'typeorm';
import { AttuneErasureNotice, AttuneOutboxEntry } from './entities.ts';
import type { ResolvedOptions } from './options.ts';
import { ANONYMOUS_ID_FIELD } from './translate.ts';

const loggerCtx = 'AttunePlugin';

/** What one erasure deleted in Vendure (the receipt's `details`). */
export interface ErasureCounts {
  customers: number;
  groupMemberships: number;
  orderAnonymousIds: number;
  outboxEntries: number;
}

export interface ErasureOutcome {
  status: 'erased' | 'duplicate';
  requestId: string | null;
  details: ErasureCounts | null;
}

export interface ErasureDeps {
  connection: TransactionalConnection;
  groups: CustomerGroupService;
  adminContext: () => Promise<RequestContext>;
  confirmer: ErasureConfirmer;
  options: ResolvedOptions;
  customerIdType: string;
}

/**
 * Vendure's copy of an erased person, as far as it came from Attune: their memberships of the
 * customer groups audiences are activated into, the Attune anonymousId on their orders, and the
 * calls for Attune still queued or parked in the outbox. The customer account and the orders are
 * the shop's own records and stay.
 */
export function createErasure(deps: ErasureDeps) {
  const { connection, options } = deps;
  const notices = () => connection.rawConnection.getRepository(AttuneErasureNotice);
  const inFlight = new Set<string>();

  /** The groups this plugin manages: those named in `activation.groups`, and those under `activation.prefix`. */
  function managed(group: CustomerGroup): boolean {
    const { groups, prefix } = options.activation;
    return Object.values(groups).includes(group.name) || (prefix !== undefined && prefix !== '' && group.name.startsWith(prefix));
  }

  async function erase(delivery: ErasureDelivery): Promise<ErasureCounts> {
    const ids = erasedIdentifiers(delivery.notice);
    const customerIds = [...new Set([...ids.userIds, ...(ids.byType[deps.customerIdType] ?? [])])].filter((id) => /^\d+$/.test(id));
    const ctx = await deps.adminContext();
    return connection.withTransaction(ctx, async (tx) => {
      const counts: ErasureCounts = { customers: 0, groupMemberships: 0, orderAnonymousIds: 0, outboxEntries: 0 };
      const customerRepo = connection.getRepository(tx, Customer);
      const byEmail = ids.emails.length > 0 ? await customerRepo.createQueryBuilder('c').leftJoinAndSelect('c.groups', 'g').where('LOWER(c.emailAddress) IN (:...emails)', { emails: ids.emails }).getMany() : [];
      const byId = customerIds.length > 0 ? await customerRepo.find({ where: { id: In(customerIds.map(Number)) }, relations: ['groups'] }) : [];
      const customers = [...new Map([...byEmail, ...byId].map((c) => [String(c.id), c])).values()];
      counts.customers = customers.length;

      for (const c of customers) {
        for (const g of (c.groups ?? []).filter(managed)) {
          await deps.groups.removeCustomersFromGroup(tx, { customerGroupId: g.id, customerIds: [c.id] });
          counts.groupMemberships += 1;
        }
      }

      const orderRepo = connection.getRepository(tx, Order);
      const orderWhere = [
        ...(customers.length > 0 ? [{ customerId: In(customers.map((c) => c.id)) }] : []),
        ...(ids.anonymousIds.length > 0 ? [{ customFields: { [ANONYMOUS_ID_FIELD]: In(ids.anonymousIds) } }] : []),
      ];
      if (orderWhere.length > 0) {
        const orders = await orderRepo.find({ where: orderWhere as never });
        for (const o of orders) {
          if (!(o.customFields as Record<string, unknown> | undefined)?.[ANONYMOUS_ID_FIELD]) continue;
          await orderRepo.update({ id: o.id }, { customFields: { [ANONYMOUS_ID_FIELD]: null } } as never);
          counts.orderAnonymousIds += 1;
        }
      }

      // Queued and parked calls about the person: they would bring the data back (or sit in a table with it).
      const outboxRepo = connection.getRepository(tx, AttuneOutboxEntry);
      const extraUserIds = [...customerIds, ...customers.map((c) => String(c.id))];
      let after = 0;
      for (;;) {
        const page = await outboxRepo.find({ where: { id: MoreThan(after) }, order: { id: 'ASC' }, take: 500 });
        if (page.length === 0) break;
        after = page[page.length - 1]!.id;
        const doomed = page.filter((e) => {
          try {
            return callMentions(JSON.parse(e.call), ids, extraUserIds);
          } catch {
            return false;
          }
        });
        if (doomed.length > 0) await outboxRepo.delete(doomed.map((e) => e.id));
        counts.outboxEntries += doomed.length;
      }
      return counts;
    });
  }

  /** Confirms in the background; the row remembers it is owed until Attune acknowledges. */
  function confirmLater(webhookId: string, requestId: string, details: unknown): void {
    if (inFlight.has(webhookId)) return;
    inFlight.add(webhookId);
    void deps.confirmer
      .confirm(requestId, details as Record<string, unknown>)
      .then(async (outcome) => {
        // `unknown`: Attune no longer has the request (or this target): nothing will ever be owed.
        // Every notice of the request (a resend after a failed confirmation) is settled by one confirmation.
        if (outcome.status !== 'failed') await notices().update({ requestId, confirmedAt: IsNull() }, { confirmedAt: Date.now() });
      })
      .catch((e) => Logger.error(`erasure confirmation for ${requestId} failed: ${String(e)}`, loggerCtx))
      .finally(() => inFlight.delete(webhookId));
  }

  return {
    /** Deletes what Vendure holds of the person once per webhook-id, then confirms to Attune without making Attune wait. */
    async handle(delivery: ErasureDelivery): Promise<ErasureOutcome> {
      const requestId = delivery.notice.requestId;
      const seen = await notices().findOne({ where: { webhookId: delivery.webhookId } });
      if (seen) {
        if (seen.confirmedAt === null && seen.requestId) confirmLater(seen.webhookId, seen.requestId, JSON.parse(seen.details));
        return { status: 'duplicate', requestId, details: JSON.parse(seen.details) as ErasureCounts };
      }
      const details = await erase(delivery);
      await notices().save({ webhookId: delivery.webhookId, requestId, details: JSON.stringify(details), receivedAt: Date.now(), confirmedAt: requestId ? null : Date.now() });
      Logger.info(`erasure ${requestId ?? delivery.notice.id}: ${JSON.stringify(details)}`, loggerCtx);
      if (requestId) confirmLater(delivery.webhookId, requestId, details);
      return { status: 'erased', requestId, details };
    },
    /** Confirmations owed from before a restart. */
    async confirmOwed(): Promise<number> {
      const owed = await notices().find({ where: { confirmedAt: IsNull() } });
      for (const n of owed) if (n.requestId) confirmLater(n.webhookId, n.requestId, JSON.parse(n.details));
      return owed.length;
    },
  };
}

export type Erasure = ReturnType<typeof createErasure>;
