import { applyFieldRules, type CatalogItemInput, type ExportCursor, type ExportSource, type FieldRules } from '@attune/core';
import type { Core } from '@strapi/strapi';
import type { SectionSettings } from '../config.ts';
import { OUTBOX_UID } from '../content-types/index.ts';
import { fieldDefs, typeName } from './schemas.ts';

interface Row {
  id: number;
  documentId: string;
  locale?: string | null;
  updatedAt: string | Date;
  publishedAt?: string | Date | null;
  [field: string]: unknown;
}

interface OutboxRow {
  id: number;
  target: string;
  entryId: string;
  entryLocale: string | null;
  action: string;
  changedAt: string | Date;
}

export interface SourceOptions {
  uid: string;
  settings: Pick<SectionSettings, 'locales' | 'status'>;
  rules: FieldRules;
  hash: (value: string) => string;
  /** Makes relative media URLs absolute (the Strapi server's public URL). */
  mediaBaseUrl?: string | undefined;
}

const iso = (v: string | Date | number) => new Date(v).toISOString();
const POPULATED = new Set(['media', 'relation', 'component', 'dynamiczone']);
/**
 * Outbox actions that take a document out of what a section exports. Creates, updates and
 * publishes are visible in the rows themselves (see `timeField`); these leave nothing to read.
 */
const REMOVALS = ['delete', 'unpublish', 'discardDraft'];

/** (updatedAt, id) order, the order runExport's source contract asks for. */
function after(cursor: ExportCursor | null, time: string, id: string) {
  if (!cursor) return {};
  const t = new Date(cursor.updatedAt);
  return { $or: [{ [time]: { $gt: t } }, { [time]: t, [id]: { $gt: cursor.id } }] };
}

/**
 * A Strapi content type (or the users-permissions users) as an export source: rows changed since
 * the cursor, merged with the outbox's removals in one (time, documentId) order. A removal is read
 * back as the document's current state, or becomes a tombstone when the document (in that status
 * and locale) is gone.
 */
export function createStrapiSource(strapi: Core.Strapi, options: SourceOptions): ExportSource & { type: string } {
  const { uid, settings, rules, hash } = options;
  const type = typeName(strapi, uid);
  const defs = fieldDefs(strapi, uid);
  const model = strapi.contentTypes[uid as keyof typeof strapi.contentTypes] as {
    options?: { draftAndPublish?: boolean };
    pluginOptions?: { i18n?: { localized?: boolean } };
  };
  const hasDraft = model.options?.draftAndPublish === true;
  const localized = model.pluginOptions?.i18n?.localized === true;
  const populate = Object.fromEntries(Object.entries(defs).filter(([, d]) => POPULATED.has(d.type)).map(([name]) => [name, true]));

  // Publishing writes a new published row that keeps the draft's updatedAt, so a published row
  // changes when its publishedAt does.
  const timeField = hasDraft && settings.status === 'published' ? 'publishedAt' : 'updatedAt';
  const timeOf = (row: Row) => iso((row[timeField] as string | Date | null) ?? row.updatedAt);
  const scope: Record<string, unknown>[] = [];
  if (hasDraft) scope.push({ publishedAt: settings.status === 'published' ? { $notNull: true } : { $null: true } });
  if (localized && settings.locales.length > 0) scope.push({ locale: { $in: settings.locales } });

  const toItem = (row: Row, updatedAt?: string): CatalogItemInput => ({
    id: row.documentId,
    type,
    ...(row.locale ? { locale: row.locale } : {}),
    updatedAt: updatedAt ?? timeOf(row),
    fields: applyFieldRules({ type, record: row, fieldDefs: defs, rules, hash, mediaBaseUrl: options.mediaBaseUrl }),
  });

  return {
    type,
    async page(cursor: ExportCursor | null, limit: number): Promise<CatalogItemInput[]> {
      const [rows, changes] = await Promise.all([
        strapi.db.query(uid).findMany({
          where: { $and: [...scope, after(cursor, timeField, 'documentId')] },
          orderBy: [{ [timeField]: 'asc' }, { documentId: 'asc' }],
          limit,
          populate,
        }) as Promise<Row[]>,
        strapi.db.query(OUTBOX_UID).findMany({
          where: { $and: [{ target: uid, action: { $in: REMOVALS } }, after(cursor, 'changedAt', 'entryId')] },
          orderBy: [{ changedAt: 'asc' }, { entryId: 'asc' }],
          limit,
        }) as Promise<OutboxRow[]>,
      ]);
      type Entry = { t: string; id: string; row?: Row; change?: OutboxRow };
      // The first `limit` of the union lie within the first `limit` of each side.
      const merged: Entry[] = [
        ...rows.map((row) => ({ t: timeOf(row), id: row.documentId, row })),
        ...changes.map((change) => ({ t: iso(change.changedAt), id: change.entryId, change })),
      ]
        .sort((a, b) => (a.t === b.t ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.t < b.t ? -1 : 1))
        .slice(0, limit);

      const items: CatalogItemInput[] = [];
      for (const entry of merged) {
        if (entry.row) {
          items.push(toItem(entry.row));
          continue;
        }
        const change = entry.change as OutboxRow;
        const where: Record<string, unknown>[] = [...scope, { documentId: change.entryId }];
        if (change.entryLocale) where.push({ locale: change.entryLocale });
        const current = (await strapi.db.query(uid).findOne({ where: { $and: where }, populate })) as Row | null;
        // Still there in this status and locale (an unpublish seen by a draft export): send it as it is now.
        items.push(
          current
            ? toItem(current, entry.t)
            : { id: change.entryId, type, ...(change.entryLocale ? { locale: change.entryLocale } : {}), updatedAt: entry.t, deleted: true, fields: [] },
        );
      }
      return items;
    },
  };
}
