export * from './affinity.ts';
export * from './catalog.ts';
export * from './deltas.ts';
export * from './rank.ts';
export * from './rows.ts';
export * from './service.ts';
export * from './shopping.ts';
export * from './similarity.ts';
