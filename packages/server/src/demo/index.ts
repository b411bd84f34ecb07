export { createDemoAudiences, DEMO_AUDIENCES, DEMO_SEGMENT_GROUPS } from './audiences.ts';
export { DEMO_CATEGORIES, DEMO_CURRENCY, DEMO_SHOP_URL, type DemoProduct, demoCatalog, productProperties, slugify } from './catalog.ts';
export {
  DEMO_DEFAULTS,
  type DemoBatch,
  type DemoBatchOptions,
  type DemoDataOptions,
  type DemoShowcase,
  type DemoVisitor,
  demoShowcase,
  generateDemoBatches,
  generateDemoCalls,
  generateDemoVisitors,
} from './generator.ts';
export { type SeedDemoOptions, type SeedDemoResult, SeedError, type SeedProgress, seedDemo } from './seed.ts';
export type { DemoCall, VisitorKind } from './types.ts';
