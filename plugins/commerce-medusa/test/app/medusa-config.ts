import { defineConfig } from '@medusajs/framework/utils';

// The test sets ATTUNE_* before Medusa loads this file. The plugin is listed by path (the test
// app's src re-exports its subscribers, job, route and workflow; a published plugin ships them
// built under .medusa/server).
export default defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    http: { storeCors: '*', adminCors: '*', authCors: '*', jwtSecret: 'test-jwt-secret', cookieSecret: 'test-cookie-secret' },
  },
  admin: { disable: true },
  plugins: [
    {
      resolve: '../..',
      options: {
        attuneUrl: process.env.ATTUNE_URL,
        writeKey: process.env.ATTUNE_WRITE_KEY,
        secretKey: process.env.ATTUNE_SECRET_KEY,
        catalog: {
          schedule: '0 3 * * *',
          hashKey: 'attune-test-hash-key-0123456789',
          products: { streamId: 'medusa-products', fields: { fields: { title: { rename: 'name' }, handle: { include: false }, description: { transform: 'trim' } } } },
          customers: { streamId: 'medusa-customers', fields: { fields: { firstName: { rename: 'given_name' }, lastName: { transform: 'hash' }, phone: { include: false } } } },
        },
        activation: { secret: process.env.ATTUNE_ACTIVATION_SECRET, groups: { buyers: 'Attune buyers' } },
      },
    },
  ],
});
