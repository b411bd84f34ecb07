// The baseline peer: a bare Express hello-world that reads the same recommend bodies and answers.
import express from 'express';

const app = express();
app.post('/v1/recommend', express.raw({ type: '*/*', limit: '64kb' }), (_req, res) => {
  res.json({ strategy: 'popular', items: [], fallback: 0 });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
