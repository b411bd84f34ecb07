export { config, default } from '../../../../src/subscribers/order-placed.ts';
