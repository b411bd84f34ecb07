export * from './activation.ts';
export * from './client.ts';
export * from './events.ts';
export * from './export-rules.ts';
export * from './history.ts';
export * from './shapes.ts';
