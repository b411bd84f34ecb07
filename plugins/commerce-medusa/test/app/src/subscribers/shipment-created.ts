export { config, default } from '../../../../src/subscribers/shipment-created.ts';
