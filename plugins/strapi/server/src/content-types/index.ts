/**
 * The plugin's own tables. Hidden from the Content Manager and the Content-Type Builder: they are
 * bookkeeping, edited only through the plugin's API.
 */
const hidden = { 'content-manager': { visible: false }, 'content-type-builder': { visible: false } };

const outbox = {
  schema: {
    kind: 'collectionType',
    collectionName: 'attune_outbox',
    info: { singularName: 'outbox-entry', pluralName: 'outbox-entries', displayName: 'Attune outbox entry' },
    options: { draftAndPublish: false },
    pluginOptions: hidden,
    attributes: {
      // The changed document: `target` is its content type uid (`api::article.article`).
      target: { type: 'string', required: true },
      entryId: { type: 'string', required: true },
      entryLocale: { type: 'string' },
      action: { type: 'string', required: true },
      changedAt: { type: 'datetime', required: true },
      // What an erasure needs once the row is gone (a deleted user's email).
      payload: { type: 'json' },
    },
  },
};

const run = {
  schema: {
    kind: 'collectionType',
    collectionName: 'attune_export_runs',
    info: { singularName: 'export-run', pluralName: 'export-runs', displayName: 'Attune export run' },
    options: { draftAndPublish: false },
    pluginOptions: hidden,
    attributes: {
      section: { type: 'string', required: true },
      streamId: { type: 'string' },
      mode: { type: 'string' },
      trigger: { type: 'string' },
      status: { type: 'string', required: true },
      holder: { type: 'string' },
      startedAt: { type: 'datetime' },
      finishedAt: { type: 'datetime' },
      items: { type: 'integer', default: 0 },
      batches: { type: 'integer', default: 0 },
      deleted: { type: 'integer', default: 0 },
      durationMs: { type: 'integer' },
      progress: { type: 'json' },
      errors: { type: 'json' },
    },
  },
};

const lease = {
  schema: {
    kind: 'collectionType',
    collectionName: 'attune_leases',
    info: { singularName: 'lease', pluralName: 'leases', displayName: 'Attune lease' },
    options: { draftAndPublish: false },
    pluginOptions: hidden,
    attributes: {
      name: { type: 'string', required: true, unique: true },
      holder: { type: 'string' },
      expiresAt: { type: 'datetime' },
    },
  },
};

/** Erasure notices handled, by webhook-id: no identifiers, only the request id and what was deleted. */
const erasureNotice = {
  schema: {
    kind: 'collectionType',
    collectionName: 'attune_erasure_notices',
    info: { singularName: 'erasure-notice', pluralName: 'erasure-notices', displayName: 'Attune erasure notice' },
    options: { draftAndPublish: false },
    pluginOptions: hidden,
    attributes: {
      webhookId: { type: 'string', required: true, unique: true },
      requestId: { type: 'string' },
      details: { type: 'json' },
      receivedAt: { type: 'datetime', required: true },
      // Null while the confirmation to Attune is owed.
      confirmedAt: { type: 'datetime' },
    },
  },
};

export const OUTBOX_UID = 'plugin::attune.outbox-entry';
export const RUN_UID = 'plugin::attune.export-run';
export const LEASE_UID = 'plugin::attune.lease';
export const ERASURE_NOTICE_UID = 'plugin::attune.erasure-notice';

export default { 'outbox-entry': outbox, 'export-run': run, lease, 'erasure-notice': erasureNotice };
