export { config, default } from '../../../../src/subscribers/customer-changed.ts';
