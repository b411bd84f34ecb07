import { chooseVariant } from '@attune/render';
import type { Core } from '@strapi/strapi';

export const SLOT_FIELD = 'plugin::attune.personalized-slot';

interface Attribute {
  type: string;
  component?: string;
  repeatable?: boolean;
  customField?: string;
}

const componentAttrs = (strapi: Core.Strapi, uid: string) =>
  ((strapi.components as unknown as Record<string, { attributes: Record<string, Attribute> }>)[uid]?.attributes ?? {}) as Record<string, Attribute>;

/** Repeatable components whose entries carry a personalized-slot binding: the document's personalized slots. */
export function personalizedSlots(strapi: Core.Strapi, uid: string): string[] {
  const ct = strapi.contentTypes[uid as keyof typeof strapi.contentTypes] as { attributes: Record<string, Attribute> } | undefined;
  if (!ct) throw new Error(`unknown content type "${uid}"`);
  return Object.entries(ct.attributes)
    .filter(([, a]) => a.type === 'component' && a.repeatable && Object.values(componentAttrs(strapi, a.component ?? '')).some((c) => c.customField === SLOT_FIELD))
    .map(([name]) => name);
}

/** Populates components two levels deep: a slot's variants and each variant's content. */
function populateOf(strapi: Core.Strapi, uid: string) {
  const ct = strapi.contentTypes[uid as keyof typeof strapi.contentTypes] as { attributes: Record<string, Attribute> };
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(ct.attributes)) {
    if (a.type !== 'component') continue;
    const nested = Object.entries(componentAttrs(strapi, a.component ?? '')).filter(([, c]) => c.type === 'component' || c.type === 'media');
    out[name] = nested.length > 0 ? { populate: Object.fromEntries(nested.map(([n]) => [n, true])) } : true;
  }
  return out;
}

/**
 * A document as a visitor in the given audiences (or experiment arm) would see it: each
 * personalized slot resolved by @attune/render's chooseVariant, as a site would.
 */
export async function previewDocument(
  strapi: Core.Strapi,
  input: { uid: string; documentId: string; locale?: string | undefined; audiences: string[]; assignments: Record<string, { variant: string }> },
) {
  const slots = personalizedSlots(strapi, input.uid);
  const doc = (await strapi.documents(input.uid as never).findOne({
    documentId: input.documentId,
    status: 'draft',
    ...(input.locale ? { locale: input.locale } : {}),
    populate: populateOf(strapi, input.uid),
  } as never)) as Record<string, unknown> | null;
  if (!doc) throw Object.assign(new Error(`no ${input.uid} document ${input.documentId}`), { status: 404 });
  const resolved: Record<string, unknown> = {};
  for (const slot of slots) {
    const chosen = chooseVariant((doc[slot] as unknown[] | null) ?? [], { audiences: input.audiences, assignments: input.assignments });
    resolved[slot] = { reason: chosen.reason, index: chosen.index, variant: chosen.variant };
  }
  return { document: doc, slots: resolved, as: { audiences: input.audiences, assignments: input.assignments } };
}
