export * from './access.ts';
export * from './consent.ts';
export * from './downstream.ts';
export * from './erasure.ts';
export * from './fields.ts';
export { type GateOutcome, type IngestPrivacy, suppressionKey } from './gate.ts';
export * from './retention.ts';
export * from './service.ts';
