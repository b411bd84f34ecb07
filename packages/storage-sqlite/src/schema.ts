/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE claims (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (scope, key)
  ) WITHOUT ROWID;

  CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    merged_into TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    data TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE identities (
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (type, value)
  ) WITHOUT ROWID;
  CREATE INDEX identities_by_profile ON identities (profile_id);

  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  -- One index per event: queries by name filter this index (audiences keep counters, they
  -- do not scan events), and every extra random-order index costs a page write per event.
  CREATE INDEX events_by_profile_time ON events (profile_id, ts, message_id);

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    traits TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE config_documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE memberships (
    audience_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (audience_id, profile_id)
  ) WITHOUT ROWID;
  CREATE INDEX memberships_by_profile ON memberships (profile_id);

  CREATE TABLE audience_checks (
    profile_id TEXT PRIMARY KEY,
    due_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX audience_checks_by_time ON audience_checks (due_at);
  `,
  `
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE outbox_cursors (
    consumer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE outbox_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    consumer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX outbox_dead_letters_by_consumer ON outbox_dead_letters (consumer, id);
  `,
  `
  CREATE TABLE experiment_stats (
    experiment_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    metric TEXT NOT NULL,
    count INTEGER NOT NULL,
    sum REAL NOT NULL,
    sum_squares REAL NOT NULL,
    PRIMARY KEY (experiment_id, variant, metric)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE catalog_items (
    stream_id TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    locale TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    fields TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (stream_id, type, id, locale)
  ) WITHOUT ROWID;
  `,
  // A profile's memberships are also in its record (`audiences`): reading them from there
  // saves a random index page write per entry and exit.
  `
  DROP INDEX memberships_by_profile;
  `,
  `
  -- Recommendations: item attributes and totals, per-day counts, co-occurrence pairs (one row
  -- per direction), all kept by ingestion.
  CREATE TABLE rec_items (
    id TEXT PRIMARY KEY,
    category TEXT,
    brand TEXT,
    price REAL,
    name TEXT,
    in_stock INTEGER,
    attributes TEXT NOT NULL DEFAULT '{}',
    from_catalog INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    views INTEGER NOT NULL DEFAULT 0,
    carts INTEGER NOT NULL DEFAULT 0,
    purchases INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX rec_items_by_category ON rec_items (category);
  CREATE INDEX rec_items_by_brand ON rec_items (brand);

  -- Keyed by item first: a category's or brand's top items read their own few days.
  CREATE TABLE rec_item_days (
    item_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    views INTEGER NOT NULL,
    carts INTEGER NOT NULL,
    purchases INTEGER NOT NULL,
    PRIMARY KEY (item_id, day)
  ) WITHOUT ROWID;

  CREATE TABLE rec_pairs (
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    other_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, item_id, other_id)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE suppressions (
    key TEXT PRIMARY KEY,
    until INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  ALTER TABLE api_keys ADD COLUMN scope TEXT;
  -- Secret keys made before roles existed keep full access.
  UPDATE api_keys SET scope = '{"role":"admin"}' WHERE kind = 'secret';
  `,
  `
  -- One row per ingest transaction's recommendation counters, folded into rec_* in bulk.
  CREATE TABLE rec_queue (
    seq INTEGER PRIMARY KEY,
    writes TEXT NOT NULL
  );
  `,
  `
  -- The audit log: append-only, newest first by id (the time, zero-padded, then random).
  CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    resource_id TEXT,
    key_id TEXT,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX audit_log_by_at ON audit_log (at);
  CREATE INDEX audit_log_by_kind ON audit_log (kind, id);
  CREATE INDEX audit_log_by_resource ON audit_log (resource_id, id);
  CREATE INDEX audit_log_by_key ON audit_log (key_id, id);
  -- Entries kept as configuration documents before the table existed move into it, without
  -- the personal data of privacy requests, access exports and retention plans they copied.
  INSERT INTO audit_log (id, at, kind, resource_id, key_id, body)
    SELECT id, created_at, COALESCE(json_extract(body, '$.kind'), 'request'), json_extract(body, '$.resourceId'), json_extract(body, '$.actor.keyId'),
           CASE WHEN json_extract(body, '$.kind') IN ('privacy-request', 'access-export-page', 'retention-plan')
                THEN json_set(body, '$.before', json('null'), '$.after', json('null')) ELSE body END
      FROM config_documents WHERE kind = 'audit';
  DELETE FROM config_documents WHERE kind = 'audit';
  `,
  `
  -- Membership changes of ingest transactions, appended in commit order and folded into
  -- memberships in key order (one page write per touched page, not one per change).
  CREATE TABLE membership_queue (
    seq INTEGER PRIMARY KEY,
    audience_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    since INTEGER
  );
  `,
];
