module.exports = ({ env }) => ({
  'users-permissions': { config: { jwtSecret: env('JWT_SECRET', 'attune-demo-users-jwt-secret') } },
  graphql: { config: { defaultLimit: 25, maxLimit: 100, depthLimit: 10 } },
  // Resolved by path: under pnpm's isolated node_modules, a plugin resolved by package name loses
  // its admin part (see TOOLCHAIN.md).
  attune: {
    enabled: true,
    resolve: '../../plugins/strapi',
    config: {
      engineUrl: env('ATTUNE_URL', 'http://127.0.0.1:4000'),
      secretKey: env('ATTUNE_SECRET_KEY', ''),
      writeKey: env('ATTUNE_WRITE_KEY', ''),
      hashSecret: env('ATTUNE_HASH_SECRET', 'attune-demo-hash-secret'),
      leaseTtlMs: env.int('ATTUNE_LEASE_TTL_MS', 5 * 60_000),
      // Erasure notices: set the URL Attune reaches this app at and the plugin registers its activation.
      erasure: {
        endpointUrl: env('ATTUNE_ERASURE_URL', ''),
        secret: env('ATTUNE_ERASURE_SECRET', ''),
        deleteUsers: env.bool('ATTUNE_ERASURE_DELETE_USERS', false),
        confirmBaseDelayMs: env.int('ATTUNE_ERASURE_CONFIRM_DELAY_MS', 1000),
      },
      // Field customization as code; the settings page and the Content-Type Builder add to it.
      fields: {
        article: {
          fields: {
            summary: { rename: 'excerpt' },
            body: { transform: 'richtext-to-text' },
            cover: { transform: 'media-to-url' },
            products: { transform: 'relation-to-ids' },
            internalNotes: { include: false },
          },
        },
        product: { fields: { description: { transform: 'richtext-to-text' }, image: { transform: 'media-to-url' } } },
        user: { default: 'skip', fields: { email: { include: true }, username: { rename: 'name' } } },
      },
      exports: {
        content: { cron: '*/30 * * * *', contentTypes: ['api::article.article', 'api::landing-page.landing-page'], streamId: 'strapi-content' },
        products: { cron: '0 */12 * * *', contentTypes: ['api::product.product'], streamId: 'strapi-products' },
        users: { cron: '0 */12 * * *', streamId: 'strapi-users' },
      },
    },
  },
});
