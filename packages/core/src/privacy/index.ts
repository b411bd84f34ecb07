export * from './consent.ts';
export * from './erasure.ts';
export { type GateOutcome, type IngestPrivacy, suppressionKey } from './gate.ts';
export * from './service.ts';
export * from './retention.ts';
export * from './access.ts';
export * from './downstream.ts';
