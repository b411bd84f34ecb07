export * from './commerce.ts';
export * from './json-safety.ts';
export * from './limits.ts';
export * from './parse.ts';
export * from './records.ts';
export * from './segment.ts';
export * from './audiences.ts';
export * from './activations.ts';
