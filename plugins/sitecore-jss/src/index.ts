export * from './handler.ts';
export * from './personalizer.ts';
export * from './static.ts';
export * from './variants.ts';
export * from './config.ts';
