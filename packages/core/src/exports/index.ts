export * from './fields.ts';
export * from './run.ts';
export * from './catalog.ts';
