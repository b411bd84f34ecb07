import {
  activationInputSchema,
  aliasSchema,
  audienceInputSchema,
  batchSchema,
  catalogBatchSchema,
  commerceEvents,
  connectorSchema,
  decideRequestSchema,
  decisionModelSchema,
  decisionTableSchema,
  ErrorCodes,
  experienceSchema,
  experimentSchema,
  groupSchema,
  identifySchema,
  LIMITS,
  offerSchema,
  orderHistoryRowSchema,
  pageSchema,
  profileRecordSchema,
  rankRequestSchema,
  recommendRequestSchema,
  screenSchema,
  segmentGroupInputSchema,
  trackSchema,
} from '@attune/core';
import { z } from 'zod';
import { IMPORT_LIMIT_BYTES } from './imports.ts';
import { createKeyBodySchema } from './key-routes.ts';
import { eraseBodySchema, eventsQuerySchema } from './profiles.ts';
import { recommendQuerySchema } from './recommend.ts';
import { BATCH_PATHS, SINGLE_CALL_PATHS } from './tracking.ts';

type JsonSchema = Record<string, unknown>;

const API_VERSION = '0.1.0';

// Response shapes. Request bodies come from @attune/core, the schemas that validate them.
const issue = z.object({ path: z.string(), message: z.string() });
const schemas = {
  TrackingResponse: z.object({ success: z.literal(true), accepted: z.number().int(), duplicates: z.number().int() }),
  Error: z.object({
    error: z.object({ code: z.enum(Object.values(ErrorCodes) as [string, ...string[]]), message: z.string(), issues: z.array(issue) }),
  }),
  ImportResult: z.object({
    rows: z.number().int(),
    accepted: z.number().int(),
    duplicates: z.number().int(),
    errors: z.array(z.object({ row: z.number().int().describe('1-based row of the file (CSV: header excluded; NDJSON: line)'), issues: z.array(issue) })),
    errorCount: z.number().int().describe('all row errors; the list holds at most the first 1000'),
  }),
  ApiKey: z.object({
    id: z.string(),
    kind: z.enum(['write', 'secret']),
    name: z.string(),
    prefix: z.string().describe('first 8 characters of the key'),
    createdAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable(),
  }),
  Profile: z.object({
    id: z.string().describe('the profile id; for a merged-away id, the id of the profile it was merged into'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    traits: z.record(z.string(), z.unknown()),
    computed: z.record(z.string(), z.unknown()).describe('event counts, orders, revenue, lifetime value, sessions, devices, …'),
    identities: z.array(
      z.object({
        type: z.string(),
        value: z.string(),
        firstSeen: z.iso.datetime(),
        blind: z.literal(true).optional().describe('the value is the blind index (keyed hash) of an identifier protected by privacy.fields'),
      }),
    ),
    accounts: z.array(z.object({ id: z.string(), traits: z.record(z.string(), z.unknown()) })),
  }),
  EventPage: z.object({
    events: z.array(
      z.object({
        messageId: z.string(),
        profileId: z.string(),
        type: z.enum(['track', 'identify', 'page', 'screen', 'group', 'alias']),
        name: z.string(),
        timestamp: z.iso.datetime(),
        receivedAt: z.iso.datetime(),
        message: z.record(z.string(), z.unknown()),
      }),
    ),
    nextCursor: z.string().nullable(),
  }),
  Health: z.object({ status: z.enum(['ok', 'closing']), store: z.string() }),
} satisfies Record<string, z.ZodType>;

const CALL_SCHEMAS = {
  Track: ['track', trackSchema],
  Identify: ['identify', identifySchema],
  Page: ['page', pageSchema],
  Screen: ['screen', screenSchema],
  Group: ['group', groupSchema],
  Alias: ['alias', aliasSchema],
} as const;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * zod → JSON Schema that never throws: transforms and refinements are described by their
 * input side, anything unrepresentable becomes `{}`. Local `$defs` move to components.
 */
export function toJsonSchema(schema: z.ZodType, name: string, defs: Record<string, JsonSchema>, io: 'input' | 'output' = 'input'): JsonSchema {
  let out: JsonSchema;
  try {
    out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  } catch (error) {
    return { description: `schema not representable: ${(error as Error).message}` };
  }
  delete out.$schema;
  const local = out.$defs as Record<string, JsonSchema> | undefined;
  delete out.$defs;
  const rewrite = (value: JsonSchema): JsonSchema =>
    JSON.parse(
      JSON.stringify(value)
        .replaceAll('"#/$defs/', `"#/components/schemas/${name}_`)
        .replaceAll('"$ref":"#"', `"$ref":"#/components/schemas/${name}"`),
    ) as JsonSchema;
  if (local) for (const [key, def] of Object.entries(local)) defs[`${name}_${key}`] = rewrite(def);
  return rewrite(out);
}

function componentName(event: string): string {
  return `${event.replace(/[^A-Za-z0-9]+/g, '')}Properties`;
}

export interface OpenApiOptions {
  /** Configured external id types, usable as lookup parameters. */
  identifierTypes: string[];
}

/** The OpenAPI 3.1 document of the HTTP API, generated from the schemas that validate it. */
export function createOpenApiDocument(options: OpenApiOptions): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(schemas)) components[name] = toJsonSchema(schema, name, components, 'output');
  components.CreateApiKey = toJsonSchema(createKeyBodySchema, 'CreateApiKey', components);

  const writeKeyProperty = { type: 'string', description: 'the write key, for clients that cannot set headers (beacons)' };
  for (const [name, [, schema]] of Object.entries(CALL_SCHEMAS)) {
    const s = toJsonSchema(schema, name, components);
    // The endpoint sets the type; in a batch each call names its own.
    const single = structuredClone(s);
    if (Array.isArray(single.required)) single.required = single.required.filter((r) => r !== 'type');
    single.properties = { ...(single.properties as object), writeKey: writeKeyProperty };
    components[name] = single;
    components[`${name}Call`] = s;
  }
  const batch = toJsonSchema(batchSchema, 'Batch', components);
  const batchProps = batch.properties as Record<string, JsonSchema>;
  batchProps.batch = { ...batchProps.batch, items: { oneOf: Object.keys(CALL_SCHEMAS).map((n) => ref(`${n}Call`)) } };
  batchProps.writeKey = writeKeyProperty;
  components.Batch = batch;
  components.ProfileRecord = toJsonSchema(profileRecordSchema, 'ProfileRecord', components);
  components.OrderHistoryRow = toJsonSchema(orderHistoryRowSchema, 'OrderHistoryRow', components);
  for (const [event, schema] of Object.entries(commerceEvents)) {
    const name = componentName(event);
    components[name] = { ...toJsonSchema(schema as z.ZodType, name, components), description: `properties of a track call with event "${event}"` };
  }

  const errors = (...statuses: number[]) =>
    Object.fromEntries(
      statuses.map((s) => [String(s), { description: ERROR_TEXT[s] ?? 'error', content: { 'application/json': { schema: ref('Error') } } }]),
    );
  const json = (schema: JsonSchema, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
  const writeSecurity = [{ writeKey: [] }, { secretKey: [] }];
  const adminSecurity = [{ secretKey: [] }];

  const paths: Record<string, JsonSchema> = {};
  for (const [name, [type]] of Object.entries(CALL_SCHEMAS)) {
    const [path, short] = SINGLE_CALL_PATHS[type];
    paths[path as string] = {
      post: {
        operationId: type,
        tags: ['tracking'],
        summary: `Segment-compatible ${type} call (also at ${short})`,
        security: writeSecurity,
        requestBody: {
          required: true,
          description: `at most ${LIMITS.maxEventBytes} bytes; gzip or deflate Content-Encoding accepted`,
          content: { 'application/json': { schema: ref(name) }, 'text/plain': { schema: ref(name) } },
        },
        responses: { '200': json(ref('TrackingResponse'), 'committed'), ...errors(400, 401, 403, 413, 429) },
      },
    };
  }
  for (const path of BATCH_PATHS.filter((p) => p !== '/v1/b')) {
    paths[path] = {
      post: {
        operationId: path === '/v1/batch' ? 'batch' : 'import',
        tags: ['tracking'],
        summary: path === '/v1/batch' ? 'Segment-compatible batch: all calls or none' : 'Segment’s name for /v1/batch',
        security: writeSecurity,
        requestBody: {
          required: true,
          description: `at most ${LIMITS.maxBatchBytes} bytes; gzip or deflate Content-Encoding accepted`,
          content: { 'application/json': { schema: ref('Batch') }, 'text/plain': { schema: ref('Batch') } },
        },
        responses: { '200': json(ref('TrackingResponse'), 'committed'), ...errors(400, 401, 403, 413, 429) },
      },
    };
  }

  const adminErrors = [401, 403, 429];
  paths['/v1/profiles'] = {
    get: {
      operationId: 'findProfile',
      tags: ['profiles'],
      summary: 'Look a profile up by exactly one identifier',
      security: adminSecurity,
      parameters: options.identifierTypes.map((t) => ({ name: t, in: 'query', required: false, schema: { type: 'string' } })),
      responses: { '200': json(ref('Profile')), ...errors(400, ...adminErrors, 404) },
    },
  };
  const profileIdParam = { name: 'profileId', in: 'path', required: true, schema: { type: 'string' } };
  paths['/v1/profiles/{profileId}'] = {
    get: {
      operationId: 'getProfile',
      tags: ['profiles'],
      summary: 'A profile by id; a merged-away id resolves to the profile it was merged into',
      security: adminSecurity,
      parameters: [profileIdParam],
      responses: { '200': json(ref('Profile')), ...errors(...adminErrors, 404) },
    },
  };
  const eventsQuery = toJsonSchema(eventsQuerySchema, 'EventsQuery', components);
  paths['/v1/profiles/{profileId}/events'] = {
    get: {
      operationId: 'listProfileEvents',
      tags: ['profiles'],
      summary: 'A profile’s events, newest first, paged by cursor',
      security: adminSecurity,
      parameters: [
        profileIdParam,
        ...Object.entries(eventsQuery.properties as Record<string, JsonSchema>).map(([name, schema]) => ({
          name,
          in: 'query',
          required: false,
          schema,
          description: EVENT_QUERY_TEXT[name],
        })),
      ],
      responses: { '200': json(ref('EventPage')), ...errors(400, ...adminErrors, 404) },
    },
  };
  const importBody = (row: string, csv: string) => ({
    required: true,
    description: `at most ${IMPORT_LIMIT_BYTES} bytes; gzip or deflate Content-Encoding accepted`,
    content: {
      'application/json': { schema: { oneOf: [ref(row), { type: 'array', items: ref(row) }] } },
      'application/x-ndjson': { schema: { type: 'string', description: `one ${row} JSON object per line` } },
      'text/csv': { schema: { type: 'string', description: csv } },
    },
  });
  paths['/v1/profiles/records'] = {
    post: {
      operationId: 'importProfileRecords',
      tags: ['imports'],
      summary: 'Upsert profile records from another system; invalid rows are reported, valid rows kept',
      security: adminSecurity,
      requestBody: importBody(
        'ProfileRecord',
        'header row; userId, anonymousId, email, phone, timestamp, messageId are record fields, externalIds.<type> columns external ids, other columns traits; a :number, :boolean or :json suffix converts a column',
      ),
      responses: { '200': json(ref('ImportResult'), 'import report'), ...errors(400, ...adminErrors, 413) },
    },
  };
  paths['/v1/orders/import'] = {
    post: {
      operationId: 'importOrders',
      tags: ['imports'],
      summary: 'Import past orders as back-office Order Placed events',
      security: adminSecurity,
      requestBody: importBody('OrderHistoryRow', 'header row naming OrderHistoryRow fields; total and revenue are numbers, products JSON'),
      responses: { '200': json(ref('ImportResult'), 'import report'), ...errors(400, ...adminErrors, 413) },
    },
  };
  paths['/v1/keys'] = {
    get: {
      operationId: 'listKeys',
      tags: ['keys'],
      summary: 'API keys (prefixes only, never the keys)',
      security: adminSecurity,
      responses: { '200': json({ type: 'object', properties: { keys: { type: 'array', items: ref('ApiKey') } }, required: ['keys'] }), ...errors(...adminErrors) },
    },
    post: {
      operationId: 'createKey',
      tags: ['keys'],
      summary: 'Create a key; the answer is the only time the key is shown',
      security: adminSecurity,
      requestBody: { required: true, content: { 'application/json': { schema: ref('CreateApiKey') } } },
      responses: {
        '201': json({ allOf: [ref('ApiKey'), { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] }] }, 'created'),
        ...errors(400, ...adminErrors),
      },
    },
  };
  paths['/v1/keys/{id}'] = {
    delete: {
      operationId: 'revokeKey',
      tags: ['keys'],
      summary: 'Revoke a key; it is refused from the next request on (other nodes: within a second)',
      security: adminSecurity,
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': json(ref('ApiKey')), ...errors(...adminErrors, 404, 409) },
    },
  };
  // Privacy, keys rotation and the audit log (bodies documented in docs/privacy.md).
  const obj: JsonSchema = { type: 'object' };
  const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
  const op = (operationId: string, tag: string, summary: string, params: string[], status: string, withBody: boolean) => ({
    operationId,
    tags: [tag],
    summary,
    security: adminSecurity,
    ...(params.length > 0 ? { parameters: params.map(idParam) } : {}),
    ...(withBody ? { requestBody: { required: true, content: { 'application/json': { schema: obj } } } } : {}),
    responses: { [status]: json(obj), ...errors(400, ...adminErrors, 404, 409) },
  });
  paths['/v1/keys/{id}/rotate'] = { post: op('rotateKey', 'keys', 'A new key with the same kind, name and scope; the old one works for overlapSeconds more', ['id'], '201', false) };
  paths['/v1/profiles/{profileId}/consent'] = {
    get: op('getConsent', 'privacy', 'Consent by purpose, with the history of grants and revocations', ['profileId'], '200', false),
    put: op('setConsent', 'privacy', 'Grant or revoke purposes ({ purposes, source })', ['profileId'], '200', true),
  };
  paths['/v1/privacy/requests'] = { post: op('createPrivacyRequest', 'privacy', 'An erasure (receipt) or access (background export) request by any identifier', [], '201', true) };
  paths['/v1/privacy/requests/{requestId}'] = { get: op('getPrivacyRequest', 'privacy', 'A request: receipt with every target, or export progress', ['requestId'], '200', false) };
  paths['/v1/privacy/requests/{requestId}/export'] = { get: op('getAccessExport', 'privacy', 'The access export (?format=json|csv)', ['requestId'], '200', false) };
  paths['/v1/privacy/requests/{requestId}/confirmations'] = { post: op('confirmErasure', 'privacy', 'A destination confirms it deleted its copy ({ target, details })', ['requestId'], '200', true) };
  paths['/v1/privacy/retention/plans'] = { post: op('planRetention', 'privacy', 'Dry run of the retention policy: what applying it deletes', [], '201', false) };
  paths['/v1/privacy/retention/plans/{planId}'] = { get: op('getRetentionPlan', 'privacy', 'A retention plan', ['planId'], '200', false) };
  paths['/v1/privacy/retention/plans/{planId}/apply'] = { post: op('applyRetention', 'privacy', 'Deletes exactly what the plan listed', ['planId'], '200', false) };
  paths['/v1/audit'] = { get: op('queryAudit', 'audit', 'Admin changes, newest first, a page at a time (?kind, resourceId, keyId, since, limit, cursor = nextCursor of the previous page); admin role', [], '200', false) };
  // Segment groups, audiences and activations: versioned documents with immutable ids.
  components.SegmentGroupInput = toJsonSchema(segmentGroupInputSchema, 'SegmentGroupInput', components);
  components.AudienceInput = {
    ...toJsonSchema(audienceInputSchema, 'AudienceInput', components),
    description: 'condition: the JSON syntax tree of packages/core/src/conditions/README.md',
  };
  components.ActivationInput = toJsonSchema(activationInputSchema, 'ActivationInput', components);
  const id = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
  const versioned = { type: 'object', properties: { version: { type: 'integer' }, createdAt: { type: 'string' }, updatedAt: { type: 'string' } } };
  const documentPaths = (base: string, name: string, tag: string, input: string) => {
    const doc = { allOf: [ref(input), versioned] };
    paths[base] = {
      get: { operationId: `list${name}s`, tags: [tag], security: adminSecurity, responses: { '200': json({ type: 'object' }), ...errors(...adminErrors) } },
      post: {
        operationId: `create${name}`,
        tags: [tag],
        security: adminSecurity,
        requestBody: { required: true, content: { 'application/json': { schema: ref(input) } } },
        responses: { '201': json(doc, 'created'), ...errors(400, ...adminErrors, 409) },
      },
    };
    paths[`${base}/{id}`] = {
      get: { operationId: `get${name}`, tags: [tag], security: adminSecurity, parameters: id, responses: { '200': json(doc), ...errors(...adminErrors, 404) } },
      put: {
        operationId: `update${name}`,
        tags: [tag],
        summary: 'Replace it; send the version you read (body `version` or If-Match). The id cannot change.',
        security: adminSecurity,
        parameters: id,
        requestBody: { required: true, content: { 'application/json': { schema: ref(input) } } },
        responses: { '200': json(doc), ...errors(400, ...adminErrors, 404, 409) },
      },
      delete: { operationId: `delete${name}`, tags: [tag], security: adminSecurity, parameters: id, responses: { '204': { description: 'deleted' }, ...errors(...adminErrors, 404, 409) } },
    };
  };
  documentPaths('/v1/segment-groups', 'SegmentGroup', 'audiences', 'SegmentGroupInput');
  documentPaths('/v1/audiences', 'Audience', 'audiences', 'AudienceInput');
  documentPaths('/v1/activations', 'Activation', 'activations', 'ActivationInput');
  const adminOp = (method: 'get' | 'post', operationId: string, tag: string, summary: string, extra: JsonSchema = {}) => ({
    [method]: { operationId, tags: [tag], summary, security: adminSecurity, responses: { '200': json({ type: 'object' }), ...errors(400, ...adminErrors, 404) }, ...extra },
  });  const decisionInputs: Array<[string, string, string, z.ZodType]> = [
    ['/v1/experiences', 'Experience', 'ExperienceInput', experienceSchema],
    ['/v1/offers', 'Offer', 'OfferInput', offerSchema],
    ['/v1/decision-tables', 'DecisionTable', 'DecisionTableInput', decisionTableSchema],
    ['/v1/decision-models', 'DecisionModel', 'DecisionModelInput', decisionModelSchema],
    ['/v1/connectors', 'Connector', 'ConnectorInput', connectorSchema],
    ['/v1/experiments', 'Experiment', 'ExperimentInput', experimentSchema],
  ];
  for (const [base, name, input, schema] of decisionInputs) {
    components[input] = toJsonSchema(schema, input, components);
    documentPaths(base, name, 'decisions', input);
  }
  components.DecideRequest = toJsonSchema(decideRequestSchema, 'DecideRequest', components);
  paths['/v1/decide'] = {
    post: {
      operationId: 'decide',
      tags: ['decisions'],
      summary:
        'What each slot shows for a visitor, with the reason. The write key gets `decisions` only; the secret key also gets the profile id, exposures and, with `explain`, a trace.',
      security: writeSecurity,
      requestBody: { required: true, content: { 'application/json': { schema: ref('DecideRequest') } } },
      responses: { '200': json({ type: 'object', properties: { decisions: { type: 'object' } } }), ...errors(400, 401, 403, 413, 429) },
    },
  };
  paths['/v1/decide/snapshot'] = {
    post: {
      operationId: 'decisionSnapshot',
      tags: ['decisions'],
      summary: 'What decide() needs of a visitor, to decide locally from the manifest; the write key reads by anonymousId and gets only the traits decisions read',
      security: writeSecurity,
      responses: { '200': json({ type: 'object' }), ...errors(400, 401, 403, 429) },
    },
  };
  paths['/v1/manifest'] = {
    get: {
      operationId: 'manifest',
      tags: ['decisions'],
      summary: 'The compiled decision configuration for local evaluation (connectors without URLs or headers for the write key)',
      security: writeSecurity,
      responses: { '200': json({ type: 'object' }), ...errors(401, 403, 429) },
    },
  };
  paths['/v1/experiments/{id}/results'] = adminOp('get', 'experimentResults', 'decisions', 'Per variant: exposures, conversions, rate, revenue, lift with a 95% interval, probability to beat control; sample-ratio check', { parameters: id });
  paths['/v1/experiments/{id}/reweight'] = adminOp('post', 'reweightBandit', 'decisions', 'Re-weight a bandit from its results now (the server also does it on its schedule)', { parameters: id });
  paths['/v1/connectors/{id}/metrics'] = adminOp('get', 'connectorMetrics', 'decisions', 'Calls, cache hits, failures by code, timeouts and latency percentiles', { parameters: id });
  paths['/v1/decision-settings'] = {
    ...adminOp('get', 'getDecisionSettings', 'decisions', 'The global holdout'),
    put: { ...adminOp('get', 'putDecisionSettings', 'decisions', 'Set the global holdout').get, operationId: 'putDecisionSettings' },
  };
  paths['/v1/config'] = {
    ...adminOp('get', 'exportConfig', 'decisions', 'The whole decision configuration (what `attune config export` prints)'),
    put: {
      ...adminOp('get', 'applyConfig', 'decisions', 'Validate a whole configuration, then create or replace every document; `prune=true` deletes the rest').get,
      operationId: 'applyConfig',
      parameters: [{ name: 'prune', in: 'query', schema: { type: 'boolean' } }],
    },
  };

  components.CatalogBatch = toJsonSchema(catalogBatchSchema, 'CatalogBatch', components);
  components.EraseRequest = toJsonSchema(eraseBodySchema(options.identifierTypes), 'EraseRequest', components);
  const streamParam = [{ name: 'streamId', in: 'path', required: true, schema: { type: 'string' } }];
  paths['/v1/catalog'] = adminOp('get', 'listCatalogStreams', 'catalog', 'Streams with their live and deleted item counts');
  paths['/v1/catalog/{streamId}'] = {
    ...adminOp('get', 'listCatalogItems', 'catalog', 'Items of a stream in (type, id, locale) order; `type`, `after` (the previous page’s `next`), `limit`, `deleted=true` for tombstones', {
      parameters: streamParam,
    }),
    ...adminOp('post', 'putCatalogItems', 'catalog', 'Idempotent upserts and tombstones (`deleted: true`); an item older than the stored version is ignored', {
      parameters: streamParam,
      requestBody: { required: true, content: { 'application/json': { schema: ref('CatalogBatch') } } },
    }),
  };
  paths['/v1/catalog/{streamId}/items/{type}/{id}'] = adminOp('get', 'getCatalogItem', 'catalog', 'One live item (`locale` query for localized items)', {
    parameters: [...streamParam, { name: 'type', in: 'path', required: true, schema: { type: 'string' } }, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
  });
  paths['/v1/profiles/erase'] = adminOp('post', 'eraseProfileByIdentifier', 'profiles', 'Erase the profile an identifier points to: events, identifiers, memberships; exits and a profile.erased fact go to the outbox', {
    requestBody: { required: true, content: { 'application/json': { schema: ref('EraseRequest') } } },
  });
  (paths['/v1/profiles/{profileId}'] as JsonSchema).delete = {
    operationId: 'eraseProfile',
    tags: ['profiles'],
    summary: 'Erase a profile (and the profiles merged into it)',
    security: adminSecurity,
    parameters: [profileIdParam],
    responses: { '200': json({ type: 'object' }), ...errors(...adminErrors, 404) },
  };
  paths['/v1/audiences/{id}/members'] = adminOp('get', 'audienceMembers', 'audiences', 'Members by profile id, paged with `after` and `limit`', { parameters: id });
  paths['/v1/audiences/{id}/export'] = adminOp('get', 'exportAudience', 'audiences', 'Every member with identifiers, as CSV or NDJSON (`format`)', { parameters: id });
  paths['/v1/audiences/preview'] = adminOp('post', 'previewAudience', 'audiences', 'How many profiles match a condition now, and 20 of them');
  paths['/v1/audiences/evaluate'] = adminOp('post', 'evaluateCondition', 'audiences', 'Try a condition on a sample profile, events and context; with a trace');
  paths['/v1/audiences/recompute'] = {
    ...adminOp('get', 'recomputeStatus', 'audiences', 'Progress of the background recompute'),
    ...adminOp('post', 'recompute', 'audiences', 'Start a recompute of every profile'),
  };
  paths['/v1/profiles/{profileId}/audiences'] = adminOp('get', 'profileAudiences', 'audiences', 'Audiences a profile is in, with entry times', {
    parameters: [{ name: 'profileId', in: 'path', required: true, schema: { type: 'string' } }],
  });
  paths['/v1/activations/{id}/dead-letters'] = adminOp('get', 'deadLetters', 'activations', 'Entries parked after the last attempt', { parameters: id });
  paths['/v1/activations/{id}/dead-letters/{letterId}/replay'] = adminOp('post', 'replayDeadLetter', 'activations', 'Deliver a dead letter again now', {
    parameters: [...id, { name: 'letterId', in: 'path', required: true, schema: { type: 'string' } }],
  });
  paths['/v1/activations/{id}/test'] = adminOp('post', 'testActivation', 'activations', 'Queue a signed test delivery through the outbox', { parameters: id });
  components.RecommendRequest = toJsonSchema(recommendRequestSchema, 'RecommendRequest', components);
  components.RankRequest = toJsonSchema(rankRequestSchema, 'RankRequest', components);
  const recommendQuery = toJsonSchema(recommendQuerySchema, 'RecommendQuery', components);
  const recommendItem = {
    type: 'object',
    properties: { id: { type: 'string' }, score: { type: 'number' }, reason: { type: 'string' }, category: { type: 'string' }, brand: { type: 'string' }, price: { type: 'number' }, name: { type: 'string' } },
    required: ['id', 'score', 'reason'],
  };
  const recommendResult = json({
    type: 'object',
    properties: { strategy: { type: 'string' }, items: { type: 'array', items: recommendItem }, fallback: { type: 'integer', description: 'items the popular fallback added' } },
  });
  const recommendText =
    'Recommended products for a strategy (viewed-/bought-together, most viewed/purchased over 7 or 30 days, trending, recently viewed, for you, more like this, popular), filtered (in stock, category, exclude purchased), filled up with popular items when data is thin. The write key asks by anonymousId only.';
  paths['/v1/recommend'] = {
    post: {
      operationId: 'recommend',
      tags: ['recommendations'],
      summary: recommendText,
      security: writeSecurity,
      requestBody: { required: true, content: { 'application/json': { schema: ref('RecommendRequest') } } },
      responses: { '200': recommendResult, ...errors(400, 401, 403, 413, 429) },
    },
    get: {
      operationId: 'recommendByQuery',
      tags: ['recommendations'],
      summary: `${recommendText} Lists (items, exclude) are comma-separated.`,
      security: writeSecurity,
      parameters: Object.entries(recommendQuery.properties as Record<string, JsonSchema>).map(([name, schema]) => ({
        name,
        in: 'query',
        required: name === 'strategy',
        schema,
      })),
      responses: { '200': recommendResult, ...errors(400, 401, 403, 429) },
    },
  };
  paths['/v1/rank'] = {
    post: {
      operationId: 'rank',
      tags: ['recommendations'],
      summary:
        'Re-rank a list of product ids (search results, a category page) for a visitor by affinity and trending, with pin, boost, bury and hide rules; each item comes back with its position, score and reason, hidden items with the rule that hid them.',
      security: writeSecurity,
      requestBody: { required: true, content: { 'application/json': { schema: ref('RankRequest') } } },
      responses: {
        '200': json({
          type: 'object',
          properties: {
            items: {
              type: 'array',
              items: {
                type: 'object',
                properties: { id: { type: 'string' }, position: { type: 'integer' }, score: { type: 'number' }, reason: { type: 'string' }, parts: { type: 'object' } },
              },
            },
            hidden: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, rule: { type: 'integer' } } } },
          },
        }),
        ...errors(400, 401, 403, 413, 429),
      },
    },
  };
  paths['/health'] = {
    get: {
      operationId: 'health',
      tags: ['operations'],
      summary: 'Ready to accept events',
      security: [],
      responses: { '200': json(ref('Health')), '503': json(ref('Health'), 'shutting down') },
    },
  };
  paths['/v1/openapi.json'] = {
    get: { operationId: 'openapi', tags: ['operations'], summary: 'This document', security: [], responses: { '200': json({ type: 'object' }) } },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Attune API',
      version: API_VERSION,
      description:
        'Segment-compatible tracking API (write key as the Basic auth user name) and admin API (secret key as a Bearer token).',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [
      { name: 'tracking', description: 'events from browsers, apps and servers' },
      { name: 'profiles' },
      { name: 'recommendations', description: 'recommended products and personalized ranking' },
      { name: 'imports' },
      { name: 'keys' },
      { name: 'audiences' },
      { name: 'activations' },
      { name: 'decisions', description: 'experiences, offers, decision tables and models, connectors, experiments' },
      { name: 'operations' },
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        writeKey: { type: 'http', scheme: 'basic', description: 'the write key as the user name, empty password' },
        secretKey: { type: 'http', scheme: 'bearer', description: 'a secret key (sk_…)' },
      },
    },
  };
}

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid input; `issues` names every invalid field',
  401: 'missing, unknown or revoked key',
  403: 'the key may not use this endpoint',
  404: 'not found',
  409: 'conflict',
  413: 'body too large',
  429: 'rate limited; see Retry-After',
};

const EVENT_QUERY_TEXT: Record<string, string> = {
  name: 'only events with this name',
  since: 'events at or after this time (ISO-8601 or epoch ms)',
  until: 'events before this time (ISO-8601 or epoch ms)',
  limit: 'page size, 1–1000 (default 50)',
  cursor: 'nextCursor of the previous page',
};
