export { default } from '../../../../src/api/middlewares.ts';
