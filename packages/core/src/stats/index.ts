export * from './bandit.ts';
export * from './results.ts';
export * from './special.ts';
