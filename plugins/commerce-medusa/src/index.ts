export { type ActivationOutcome, handleActivation } from './activation.ts';
export { type ErasureCounts, type ErasureOutcome, handleErasure } from './erasure.ts';
export { onCustomerChanged, onOrderCanceled, onOrderPlaced, onPaymentRefunded, onShipmentCreated } from './events.ts';
export { createCatalogExport, type ExportStream, MEDUSA_SCHEMAS, parseFieldRules, scheduleDue } from './exports.ts';
export { importOrderHistory, type OrderHistoryImportOptions, type OrderHistoryImportResult } from './history.ts';
export { type AttuneMedusaOptions, attuneMedusaOptionsSchema, parseOptions, PLUGIN_NAME } from './options.ts';
export { attuneRuntime } from './runtime.ts';
export { ANONYMOUS_ID_KEY, amount, toCustomer, toLine, toOrder } from './translate.ts';
export { type AudienceGroupInput, attuneAudienceGroupWorkflow } from './workflows/audience-group.ts';
