import { PluginCommonModule, type Type, VendurePlugin } from '@vendure/core';
import { z } from 'zod';
import { ACTIVATION_ROUTE, AttuneActivationController, rawBodyMiddleware } from './activation.controller.ts';
import { AttuneErasureNotice, AttuneExportCursor, AttuneOutboxEntry } from './entities.ts';
import { ATTUNE_OPTIONS, type AttuneVendureOptions, attuneVendureOptionsSchema, type ResolvedOptions } from './options.ts';
import { AttuneService } from './service.ts';
import { ANONYMOUS_ID_FIELD } from './translate.ts';

/**
 * Attune for Vendure: order, cart and customer events (through a transactional outbox),
 * scheduled product and customer export, order-history import, audience activation
 * into customer groups, and erasure notices (deletes what Attune put here, then confirms).
 *
 * ```ts
 * plugins: [AttunePlugin.init({ attuneUrl: 'http://localhost:4000', writeKey, secretKey, catalog: { schedule: '0 * * * *' } })]
 * ```
 */
@VendurePlugin({
  imports: [PluginCommonModule],
  entities: [AttuneOutboxEntry, AttuneExportCursor, AttuneErasureNotice],
  providers: [{ provide: ATTUNE_OPTIONS, useFactory: () => AttunePlugin.options }, AttuneService],
  controllers: [AttuneActivationController],
  exports: [AttuneService],
  compatibility: '^3.0.0',
  configuration: (config) => {
    config.apiOptions.middleware.push({ route: ACTIVATION_ROUTE, handler: rawBodyMiddleware, beforeListen: true });
    const orderFields = config.customFields.Order ?? [];
    if (!orderFields.some((f) => f.name === ANONYMOUS_ID_FIELD)) {
      // Storefronts set it (setOrderCustomFields) so cart and order events join the browser's profile.
      orderFields.push({ name: ANONYMOUS_ID_FIELD, type: 'string', nullable: true, public: true, readonly: false, internal: false });
      config.customFields.Order = orderFields;
    }
    return config;
  },
})
export class AttunePlugin {
  static options: ResolvedOptions;

  /** Validates the options (a bad option names its path) and returns the plugin to list in `plugins`. */
  static init(options: AttuneVendureOptions): Type<AttunePlugin> {
    const parsed = attuneVendureOptionsSchema.safeParse(options);
    if (!parsed.success) throw new Error(`AttunePlugin options: ${z.prettifyError(parsed.error)}`);
    AttunePlugin.options = parsed.data;
    return AttunePlugin;
  }
}
