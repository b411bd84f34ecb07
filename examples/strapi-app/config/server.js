module.exports = ({ env }) => ({
  host: env('HOST', '127.0.0.1'),
  port: env.int('PORT', 1337),
  app: { keys: env.array('APP_KEYS', ['attune-demo-key-1', 'attune-demo-key-2']) },
  // Tests and benchmarks boot several apps in one process; Strapi's own cron stays on.
  cron: { enabled: true },
});
