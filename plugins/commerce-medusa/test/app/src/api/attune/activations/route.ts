export { AUTHENTICATE, POST } from '../../../../../../src/api/attune/activations/route.ts';
