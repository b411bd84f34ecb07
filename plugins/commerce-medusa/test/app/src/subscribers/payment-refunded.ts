export { config, default } from '../../../../src/subscribers/payment-refunded.ts';
