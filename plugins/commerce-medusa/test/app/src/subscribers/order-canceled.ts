export { config, default } from '../../../../src/subscribers/order-canceled.ts';
