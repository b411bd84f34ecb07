import { createHmac } from 'node:crypto';
import {
  AttuneError,
  type AttuneClient,
  audienceGroupAction,
  createAttuneClient,
  createCommerceMapper,
  fetchPort,
  customerIdsOfProfile,
  type CommerceMapper,
  createErasureConfirmer,
  readErasureDelivery,
  readMembershipWebhook,
  type WebhookHeaders,
} from '@attune/core';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  Customer,
  CustomerGroup,
  CustomerGroupService,
  EventBus,
  HistoryService,
  Logger,
  ProcessContext,
  RequestContextService,
  TransactionalConnection,
} from '@vendure/core';
import { Cron } from 'croner';
import { registerEventHandlers } from './events.ts';
import { type CatalogExport, createCatalogExport, parseFieldRules, registerCatalogTouches } from './exports.ts';
import { createDelivery, type Delivery } from './delivery.ts';
import { createErasure, type Erasure, type ErasureOutcome } from './erasure.ts';
import { importOrderHistory, type OrderHistoryImportOptions } from './history.ts';
import { ATTUNE_OPTIONS, type ResolvedOptions } from './options.ts';

const loggerCtx = 'AttunePlugin';

export interface ActivationOutcome {
  status: 'applied' | 'ignored';
  reason?: string;
  action?: 'add' | 'remove';
  group?: string;
  customerIds?: string[];
}

/**
 * The plugin's runtime: event handlers into the outbox, the delivery loop, the scheduled
 * catalog export, the order-history import and the activation receiver. Everything it
 * decides comes from @attune/core; this class wires Vendure's services to it.
 */
@Injectable()
export class AttuneService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly client: AttuneClient;
  readonly mapper: CommerceMapper;
  readonly delivery: Delivery;
  readonly catalog: CatalogExport;
  readonly erasure: Erasure;
  private timer: ReturnType<typeof setInterval> | null = null;
  private flushing: Promise<unknown> | null = null;
  private cron: Cron | null = null;

  constructor(
    @Inject(ATTUNE_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(EventBus) private readonly eventBus: EventBus,
    @Inject(TransactionalConnection) private readonly connection: TransactionalConnection,
    @Inject(ProcessContext) private readonly processContext: ProcessContext,
    @Inject(CustomerGroupService) private readonly groups: CustomerGroupService,
    @Inject(RequestContextService) private readonly requestContexts: RequestContextService,
    @Inject(HistoryService) private readonly history: HistoryService,
  ) {
    this.client = createAttuneClient({ url: options.attuneUrl, writeKey: options.writeKey, secretKey: options.secretKey, fetch: fetchPort(fetch, (ms) => AbortSignal.timeout(ms)) });
    this.mapper = createCommerceMapper({ source: options.source });
    this.delivery = createDelivery(connection, this.client, options.delivery);
    this.catalog = createCatalogExport({ connection, client: this.client, options, rules: parseFieldRules(options.catalog) });
    const attuneLogger = {
      debug: () => undefined,
      info: (o: object, m?: string) => Logger.info(`${m} ${JSON.stringify(o)}`, loggerCtx),
      warn: (o: object, m?: string) => Logger.warn(`${m} ${JSON.stringify(o)}`, loggerCtx),
      error: (o: object, m?: string) => Logger.error(`${m} ${JSON.stringify(o)}`, loggerCtx),
    };
    this.erasure = createErasure({
      connection,
      groups,
      adminContext: () => requestContexts.create({ apiType: 'admin' }),
      confirmer: createErasureConfirmer({
        url: options.attuneUrl,
        secretKey: options.secretKey,
        activationId: options.activation.id,
        fetch: fetchPort(fetch, (ms) => AbortSignal.timeout(ms)),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()),
        logger: attuneLogger,
        attempts: options.erasure.confirmAttempts,
        baseDelayMs: options.erasure.confirmBaseDelayMs,
      }),
      options,
      customerIdType: this.mapper.customerIdType,
    });
  }

  onApplicationBootstrap(): void {
    registerEventHandlers({ eventBus: this.eventBus, connection: this.connection, historyService: this.history, mapper: this.mapper, options: this.options });
    registerCatalogTouches(this.eventBus, this.connection);
    // One process delivers and schedules: the server (workers publish into the same outbox table).
    if (!this.processContext.isServer) return;
    this.timer = setInterval(() => void this.flush(), this.options.delivery.pollMs);
    this.timer.unref();
    void this.erasure.confirmOwed().catch((e) => Logger.error(`owed erasure confirmations: ${String(e)}`, loggerCtx));
    const { schedule, timezone } = this.options.catalog;
    if (schedule) {
      this.cron = new Cron(schedule, { protect: true, ...(timezone ? { timezone } : {}), catch: (e) => Logger.error(`scheduled export failed: ${String(e)}`, loggerCtx) }, async () => {
        const results = await this.catalog.runAll('incremental');
        Logger.info(`scheduled export: ${JSON.stringify(results)}`, loggerCtx);
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.cron?.stop();
    await this.flushing;
  }

  /** Delivers the outbox now (the poller does this every `delivery.pollMs`). */
  flush() {
    if (!this.flushing) {
      this.flushing = this.delivery.flush().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing as ReturnType<Delivery['flush']>;
  }

  /** The next time the export schedule fires, or null without a schedule. */
  nextExportAt(): Date | null {
    return this.cron?.nextRun() ?? null;
  }

  importOrderHistory(options: OrderHistoryImportOptions = {}) {
    return importOrderHistory(this.connection, this.client, options);
  }

  /**
   * Verifies one activation webhook delivery (the controller passes the raw body) and applies it:
   * a membership change to a customer group, an erasure notice to everything Attune put here.
   */
  async handleActivation(headers: WebhookHeaders, body: string): Promise<ActivationOutcome | ErasureOutcome> {
    const { activation } = this.options;
    if (!activation.secret) throw new AttuneError('NOT_FOUND', 'activation webhooks are not enabled (activation.secret is not configured)');
    const key = Buffer.from(activation.secret.slice('whsec_'.length), 'base64');
    const erasure = readErasureDelivery({
      headers,
      body,
      now: Math.floor(Date.now() / 1000),
      toleranceSec: activation.toleranceSec,
      sign: (content) => createHmac('sha256', key).update(content).digest('base64'),
    });
    if (erasure) return this.erasure.handle(erasure);
    const change = readMembershipWebhook(body);
    if (!change) return { status: 'ignored', reason: 'not a membership change' };
    const action = audienceGroupAction(change, activation);
    if (!action) return { status: 'ignored', reason: `audience "${change.audienceId}" is not mapped to a customer group` };
    const profile = await this.client.profile(change.mergedInto ?? change.profileId);
    const ids = profile ? customerIdsOfProfile(profile, this.mapper.customerIdType) : [];
    const ctx = await this.requestContexts.create({ apiType: 'admin' });
    const customers = ids.length > 0 ? await this.connection.getRepository(ctx, Customer).find({ where: ids.map((id) => ({ id: /^\d+$/.test(id) ? Number(id) : id })), relations: ['groups'] }) : [];
    if (customers.length === 0) return { status: 'ignored', reason: `profile ${change.profileId} is not a customer of this shop`, ...action };
    let group = await this.connection.getRepository(ctx, CustomerGroup).findOne({ where: { name: action.group } });
    if (!group) {
      if (action.action === 'remove') return { status: 'ignored', reason: `group "${action.group}" does not exist`, ...action };
      group = await this.groups.create(ctx, { name: action.group });
    }
    const groupId = group.id;
    const member = (c: Customer) => c.groups.some((g) => String(g.id) === String(groupId));
    const targets = customers.filter((c) => (action.action === 'add' ? !member(c) : member(c))).map((c) => c.id);
    if (targets.length > 0) {
      if (action.action === 'add') await this.groups.addCustomersToGroup(ctx, { customerGroupId: groupId, customerIds: targets });
      else await this.groups.removeCustomersFromGroup(ctx, { customerGroupId: groupId, customerIds: targets });
    }
    return { status: 'applied', ...action, customerIds: customers.map((c) => String(c.id)) };
  }
}
