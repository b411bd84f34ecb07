import type { ICustomerModuleService } from '@medusajs/framework/types';
import { Modules } from '@medusajs/framework/utils';
import { createStep, createWorkflow, StepResponse, type WorkflowData, WorkflowResponse } from '@medusajs/framework/workflows-sdk';

export interface AudienceGroupInput {
  action: 'add' | 'remove';
  group: string;
  customerIds: string[];
}

export interface AudienceGroupResult {
  groupId: string | null;
  /** Customers whose membership changed (the others were already as asked). */
  changed: string[];
}

interface Undo {
  groupId: string | null;
  action: 'add' | 'remove';
  changed: string[];
  createdGroup: boolean;
}

/** Adds customers to (creating it when needed) or removes them from a customer group; undone on rollback. */
export const setAudienceGroupStep = createStep(
  'attune-set-audience-group',
  async (input: AudienceGroupInput, { container }) => {
    const customers = container.resolve<ICustomerModuleService>(Modules.CUSTOMER);
    let [group] = await customers.listCustomerGroups({ name: input.group });
    let createdGroup = false;
    if (!group) {
      if (input.action === 'remove') return new StepResponse<AudienceGroupResult, Undo>({ groupId: null, changed: [] }, { groupId: null, action: input.action, changed: [], createdGroup: false });
      group = await customers.createCustomerGroups({ name: input.group });
      createdGroup = true;
    }
    const groupId = group.id;
    const found = await customers.listCustomers({ id: input.customerIds }, { relations: ['groups'] });
    const isMember = (c: (typeof found)[number]) => (c.groups ?? []).some((g) => g.id === groupId);
    const changed = found.filter((c) => (input.action === 'add' ? !isMember(c) : isMember(c))).map((c) => c.id);
    const pairs = changed.map((customer_id) => ({ customer_id, customer_group_id: groupId }));
    if (pairs.length > 0) {
      if (input.action === 'add') await customers.addCustomerToGroup(pairs);
      else await customers.removeCustomerFromGroup(pairs);
    }
    return new StepResponse<AudienceGroupResult, Undo>({ groupId, changed }, { groupId, action: input.action, changed, createdGroup });
  },
  async (undo, { container }) => {
    if (!undo?.groupId) return;
    const groupId = undo.groupId;
    const customers = container.resolve<ICustomerModuleService>(Modules.CUSTOMER);
    const pairs = undo.changed.map((customer_id) => ({ customer_id, customer_group_id: groupId }));
    if (pairs.length > 0) {
      if (undo.action === 'add') await customers.removeCustomerFromGroup(pairs);
      else await customers.addCustomerToGroup(pairs);
    }
    if (undo.createdGroup) await customers.deleteCustomerGroups(groupId);
  },
);

export const attuneAudienceGroupWorkflow = createWorkflow('attune-audience-group', (input: WorkflowData<AudienceGroupInput>) => new WorkflowResponse(setAudienceGroupStep(input)));
