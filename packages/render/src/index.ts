export * from './slots.ts';
export * from './variants.ts';
