export * from './bucketing.ts';
export * from './connectors/index.ts';
export * from './decide.ts';
export * from './exposures.ts';
export * from './manifest.ts';
export * from './offers.ts';
export * from './service.ts';
export * from './tables.ts';
