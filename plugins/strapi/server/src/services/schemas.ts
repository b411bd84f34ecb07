import type { Core } from '@strapi/strapi';

export const USER_UID = 'plugin::users-permissions.user';

export interface FieldDef {
  type: string;
}

/** The type name an exported item carries: the content type's singular name (`article`), `user` for users. */
export function typeName(strapi: Core.Strapi, uid: string): string {
  if (uid === USER_UID) return 'user';
  const ct = strapi.contentTypes[uid as keyof typeof strapi.contentTypes] as { info?: { singularName?: string } } | undefined;
  if (!ct?.info?.singularName) throw new Error(`unknown content type "${uid}"`);
  return ct.info.singularName;
}

interface Attribute {
  type: string;
  private?: boolean;
  pluginOptions?: { attune?: Record<string, unknown> };
}

function attributesOf(strapi: Core.Strapi, uid: string): Record<string, Attribute> {
  const ct = strapi.contentTypes[uid as keyof typeof strapi.contentTypes] as { attributes?: Record<string, Attribute> } | undefined;
  return ct?.attributes ?? {};
}

/**
 * The exportable fields of a content type and their types. Private attributes (passwords, reset
 * tokens) are never exported, whatever the rules say, so they are not part of the schema.
 */
export function fieldDefs(strapi: Core.Strapi, uid: string): Record<string, FieldDef> {
  const out: Record<string, FieldDef> = {};
  for (const [name, attr] of Object.entries(attributesOf(strapi, uid))) {
    if (attr.private) continue;
    // Bookkeeping the item itself carries (id, locale, updatedAt) or that is not content.
    if (['createdAt', 'updatedAt', 'createdBy', 'updatedBy', 'localizations', 'publishedAt', 'locale'].includes(name)) continue;
    out[name] = { type: attr.type };
  }
  return out;
}

/** The uids the plugin can export: the app's content types and the users-permissions users. */
export function exportableUids(strapi: Core.Strapi): string[] {
  const uids = Object.keys(strapi.contentTypes).filter((uid) => uid.startsWith('api::'));
  if (strapi.contentTypes[USER_UID as keyof typeof strapi.contentTypes]) uids.push(USER_UID);
  return uids;
}

/** Every exportable type's fields, keyed by type name: the schemas validateFieldRules checks against. */
export function exportSchemas(strapi: Core.Strapi): Record<string, Record<string, FieldDef>> {
  return Object.fromEntries(exportableUids(strapi).map((uid) => [typeName(strapi, uid), fieldDefs(strapi, uid)]));
}

/** Field rules set in the Content-Type Builder: `pluginOptions.attune` on each attribute. */
export function builderRules(strapi: Core.Strapi): Record<string, { fields: Record<string, Record<string, unknown>> }> {
  const out: Record<string, { fields: Record<string, Record<string, unknown>> }> = {};
  for (const uid of exportableUids(strapi)) {
    for (const [name, attr] of Object.entries(attributesOf(strapi, uid))) {
      const options = attr.pluginOptions?.attune;
      if (!options) continue;
      // The builder's form stores `skip` (a checkbox) and empty strings for unset inputs.
      const rule: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(options)) {
        if (v === '' || v === null || v === undefined) continue;
        if (k === 'skip') {
          if (v === true) rule.include = false;
        } else rule[k] = v;
      }
      if (Object.keys(rule).length === 0) continue;
      const type = typeName(strapi, uid);
      out[type] ??= { fields: {} };
      (out[type] as { fields: Record<string, Record<string, unknown>> }).fields[name] = rule;
    }
  }
  return out;
}
