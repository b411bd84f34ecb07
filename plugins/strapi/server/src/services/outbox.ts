import type { Core } from '@strapi/strapi';
import { OUTBOX_UID } from '../content-types/index.ts';
import { USER_UID } from './schemas.ts';

/** Document Service actions that change what an export sees. */
const TRACKED = new Set(['create', 'update', 'delete', 'publish', 'unpublish', 'discardDraft']);

interface OutboxRow {
  target: string;
  entryId: string;
  entryLocale?: string | null;
  action: string;
  payload?: unknown;
}

async function record(strapi: Core.Strapi, rows: OutboxRow[]) {
  const changedAt = new Date();
  for (const row of rows) await strapi.db.query(OUTBOX_UID).create({ data: { ...row, changedAt } });
}

/**
 * Document Service middleware: every change to the app's content is written to the outbox table,
 * deletes included (with the locales the document had), so the next export run sees it even when
 * the document is gone or its update time did not move.
 */
export function registerDocumentOutbox(strapi: Core.Strapi) {
  strapi.documents.use((async (ctx: { uid: string; action: string; params?: unknown }, next: () => Promise<unknown>) => {
    if (!ctx.uid.startsWith('api::') || !TRACKED.has(ctx.action)) return next();
    const params = (ctx.params ?? {}) as { documentId?: string; locale?: string };
    let locales: (string | null)[] | null = null;
    if (ctx.action === 'delete' && params.documentId) {
      const where: Record<string, unknown> = { documentId: params.documentId };
      if (params.locale && params.locale !== '*') where.locale = params.locale;
      const rows = (await strapi.db.query(ctx.uid).findMany({ where, select: ['locale'] })) as { locale?: string | null }[];
      locales = [...new Set(rows.map((r) => r.locale ?? null))];
    }
    const result = (await next()) as { documentId?: string; locale?: string } | null;
    const documentId = params.documentId ?? result?.documentId;
    if (!documentId) return result;
    const locale = params.locale && params.locale !== '*' ? params.locale : (result?.locale ?? null);
    await record(
      strapi,
      (locales ?? [locale]).map((l) => ({ target: ctx.uid, entryId: documentId, entryLocale: l, action: ctx.action })),
    );
    return result;
  }) as never);
}

interface UserRow {
  id: number;
  documentId: string;
  email?: string | null;
}

/**
 * Users-permissions writes users through the query engine, not the Document Service, so users
 * are followed with database lifecycles. A deleted user's ids are kept in the outbox row for erasure.
 */
export function registerUserOutbox(strapi: Core.Strapi, onDeleted: (users: UserRow[]) => Promise<void>) {
  const find = (where: unknown) => strapi.db.query(USER_UID).findMany({ where, select: ['id', 'documentId', 'email'] }) as Promise<UserRow[]>;
  const before = async (event: { params: { where?: unknown }; state: Record<string, unknown> }) => {
    event.state.attuneUsers = await find(event.params.where ?? {});
  };
  const after = async (event: { state: Record<string, unknown> }) => {
    const users = (event.state.attuneUsers as UserRow[] | undefined) ?? [];
    await record(
      strapi,
      users.map((u) => ({ target: USER_UID, entryId: u.documentId, action: 'delete', payload: { id: u.id, email: u.email ?? null } })),
    );
    if (users.length > 0) await onDeleted(users);
  };
  const changed = async (event: { result?: unknown }) => {
    const results = (Array.isArray(event.result) ? event.result : [event.result]) as Partial<UserRow>[];
    await record(
      strapi,
      results.filter((u): u is UserRow => typeof u?.documentId === 'string').map((u) => ({ target: USER_UID, entryId: u.documentId, action: 'update' })),
    );
  };
  strapi.db.lifecycles.subscribe({
    models: [USER_UID],
    beforeDelete: before,
    beforeDeleteMany: before,
    afterDelete: after,
    afterDeleteMany: after,
    afterCreate: changed,
    afterUpdate: changed,
  } as never);
}
