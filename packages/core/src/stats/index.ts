export * from './bandit.ts';
export * from './compare.ts';
export * from './interval.ts';
export * from './random.ts';
export * from './special.ts';
export * from './srm.ts';
export * from './variant-stats.ts';
