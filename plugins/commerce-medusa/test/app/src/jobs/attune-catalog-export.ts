export { config, default } from '../../../../src/jobs/attune-catalog-export.ts';
