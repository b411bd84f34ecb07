import { defineMiddlewares } from '@medusajs/framework/http';

// The webhook signature covers the exact bytes, so the raw body is kept.
export default defineMiddlewares({
  routes: [{ matcher: '/attune/activations', method: ['POST'], bodyParser: { preserveRawBody: true } }],
});
