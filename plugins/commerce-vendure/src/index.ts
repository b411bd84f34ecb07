export { ACTIVATION_ROUTE, AttuneActivationController } from './activation.controller.ts';
export type { DeliveryResult } from './delivery.ts';
export { AttuneExportCursor, AttuneOutboxEntry } from './entities.ts';
export { type ExportStream, VENDURE_SCHEMAS } from './exports.ts';
export type { OrderHistoryImportOptions, OrderHistoryImportResult } from './history.ts';
export { type AttuneVendureOptions, attuneVendureOptionsSchema } from './options.ts';
export { AttunePlugin } from './plugin.ts';
export { type ActivationOutcome, AttuneService } from './service.ts';
export { ANONYMOUS_ID_FIELD, toCustomer, toLine, toOrder } from './translate.ts';
