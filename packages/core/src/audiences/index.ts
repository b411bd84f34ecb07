export * from './apply.ts';
export * from './compiled.ts';
export * from './counters.ts';
export * from './service.ts';
