import { AttuneError, type Store } from '@attune/core';
import { type Request, type Response, Router } from 'express';
import {
  ACTIVATION_KIND,
  type Activation,
  activationView,
  consumerOf,
  newSecret,
  parseActivation,
  TEST_TOPIC,
} from '../activations/activations.ts';
import type { ActivationWorker } from '../activations/worker.ts';
import { checkContentType, readJsonBody } from './body.ts';

async function jsonObject(req: Request, res: Response): Promise<Record<string, unknown>> {
  checkContentType(req, ['application/json'], res);
  const body = await readJsonBody(req, res, { bytes: 64 * 1024, label: '/v1/activations' });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AttuneError('VALIDATION', 'the body must be a JSON object', { issues: [{ path: '(root)', message: 'must be a JSON object' }] });
  }
  return body as Record<string, unknown>;
}

async function activation(store: Store, id: string): Promise<{ a: Activation; version: number }> {
  const doc = await store.docs.get(ACTIVATION_KIND, id);
  if (!doc) throw new AttuneError('NOT_FOUND', `no activation "${id}"`);
  return { a: doc.body as Activation, version: doc.version };
}

/** Admin API of webhook activations (behind the secret key); `purposes`: the configured consent purposes. */
export function activationRoutes(store: Store, worker: ActivationWorker, purposes: readonly string[]): Router {
  const router = Router();

  /** Refuses a URL the worker would not call, when it is saved rather than at each delivery. */
  const checkUrl = (url: string) => {
    const refused = worker.refusedUrl(url);
    if (refused) throw new AttuneError('VALIDATION', `url: ${refused}`, { issues: [{ path: 'url', message: refused }] });
  };

  router.post('/v1/activations', async (req, res) => {
    const input = parseActivation(await jsonObject(req, res), purposes);
    checkUrl(input.url);
    const body: Activation = { ...input, secret: newSecret() };
    const doc = await store.docs.put(ACTIVATION_KIND, input.id, body, 0, Date.now());
    if (!doc) throw new AttuneError('CONFLICT', `activation "${input.id}" already exists`);
    // New activations start at the current end of the outbox: they receive changes from now on.
    const tail = await store.outbox.tail();
    if (tail > 0) await store.outbox.ack(consumerOf(input.id), tail);
    res.status(201).json(activationView(doc, true));
  });
  router.get('/v1/activations', async (_req, res) => {
    res.json({ activations: (await store.docs.list(ACTIVATION_KIND)).map((d) => activationView(d)) });
  });
  router.get('/v1/activations/:id', async (req, res) => {
    const doc = await store.docs.get(ACTIVATION_KIND, req.params.id as string);
    if (!doc) throw new AttuneError('NOT_FOUND', `no activation "${req.params.id}"`);
    res.json(activationView(doc));
  });
  router.put('/v1/activations/:id', async (req, res) => {
    const id = req.params.id as string;
    const body = await jsonObject(req, res);
    if (body.id !== undefined && body.id !== id) {
      throw new AttuneError('VALIDATION', `id: the identifier of an activation cannot be changed (it is "${id}")`, {
        issues: [{ path: 'id', message: 'cannot be changed once created' }],
      });
    }
    const version = Number(body.version);
    delete body.version;
    if (!Number.isInteger(version) || version < 1) {
      throw new AttuneError('VALIDATION', 'version: send the version you read', { issues: [{ path: 'version', message: 'required' }] });
    }
    const { a } = await activation(store, id);
    const input = parseActivation({ ...body, id }, purposes);
    checkUrl(input.url);
    const doc = await store.docs.put(ACTIVATION_KIND, id, { ...input, secret: a.secret }, version, Date.now());
    if (!doc) throw new AttuneError('CONFLICT', `activation "${id}" is not at version ${version}: read it again and retry`);
    res.json(activationView(doc));
  });
  router.delete('/v1/activations/:id', async (req, res) => {
    if (!(await store.docs.delete(ACTIVATION_KIND, req.params.id as string))) throw new AttuneError('NOT_FOUND', `no activation "${req.params.id}"`);
    // Its cursor would hold the outbox's pruning back for ever; its dead letters go with it.
    await store.outbox.dropConsumer(consumerOf(req.params.id as string));
    res.status(204).end();
  });
  router.get('/v1/activations/:id/dead-letters', async (req, res) => {
    const { a } = await activation(store, req.params.id as string);
    res.json({ deadLetters: await store.outbox.listDeadLetters(consumerOf(a.id)) });
  });
  router.post('/v1/activations/:id/dead-letters/:letterId/replay', async (req, res) => {
    const { a } = await activation(store, req.params.id as string);
    const outcome = await worker.replay(a, req.params.letterId as string);
    if (outcome === 'missing') throw new AttuneError('NOT_FOUND', `no dead letter ${req.params.letterId}`);
    res.json({ outcome });
  });
  router.delete('/v1/activations/:id/dead-letters/:letterId', async (req, res) => {
    const { a } = await activation(store, req.params.id as string);
    if (!(await store.outbox.takeDeadLetter(consumerOf(a.id), req.params.letterId as string))) {
      throw new AttuneError('NOT_FOUND', `no dead letter ${req.params.letterId}`);
    }
    res.status(204).end();
  });
  // A signed test delivery through the real path: written to the outbox, delivered by the worker.
  router.post('/v1/activations/:id/test', async (req, res) => {
    const { a } = await activation(store, req.params.id as string);
    const id = `test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    await store.transaction((tx) =>
      tx.appendOutbox([{ topic: TEST_TOPIC, key: a.id, createdAt: Date.now(), payload: { id, activationId: a.id, message: 'Attune test delivery' } }]),
    );
    res.status(202).json({ queued: id });
  });
  return router;
}
