export * from './apply.ts';
export * from './compiled.ts';
export * from './counters.ts';
export * from './recompute.ts';
export * from './service.ts';
