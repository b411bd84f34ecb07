export * from './catalog.ts';
export * from './fields.ts';
export * from './run.ts';
