// Child process of kill.test.ts: a Strapi instance that seeds articles and starts a full export
// through the proxy given in ATTUNE_URL; the test kills it with SIGKILL in the middle.
import { bootStrapi } from './harness.ts';

const app = await bootStrapi({ engineUrl: process.env.PROXY_URL as string, databaseFile: process.env.DATABASE_FILE as string });
const docs = app.strapi.documents('api::article.article' as never);
for (let i = 0; i < 15; i++) {
  const d = (await docs.create({ data: { title: `Killed ${i}` } } as never)) as { documentId: string };
  await docs.publish({ documentId: d.documentId } as never);
}
await app.strapi.plugin('attune').service('settings').update({ exports: { content: { batchSize: 5, streamId: 'kill-test', mode: 'full', contentTypes: ['api::article.article'] } } });
console.log('SEEDED');
await app.strapi.plugin('attune').service('exporter').run('content', 'cron');
console.log('FINISHED');
