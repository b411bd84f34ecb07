/**
 * Sitecore's variant conventions, mapped to Attune slots. Sitecore names a page variant with an
 * id without `_`, a component variant `<componentId>_<variantId>`, and the control of a
 * component test `<componentId>_default`. Attune decides one slot per Sitecore "execution": one
 * slot for the page's variants and one per component under test.
 */
import type { SlotDecision } from '@attune/core';
import type { ComponentRendering, HtmlElementRendering, LayoutServiceData, PlaceholdersData } from '@sitecore-jss/sitecore-jss/layout.js';
import jssPersonalize from '@sitecore-jss/sitecore-jss/personalize.js';

const { DEFAULT_VARIANT } = jssPersonalize;

/** What Experience Edge's `personalization { variantIds }` query returns for a route (JSS's PersonalizeInfo). */
export interface PersonalizeInfo {
  pageId: string;
  variantIds: string[];
}

/** One Attune slot: the page's variants, or one component's test. */
export interface VariantGroup {
  /** The Attune slot key: `page:<pageId>` or `component:<componentId>`. */
  slot: string;
  kind: 'page' | 'component';
  /** Sitecore ids this slot may yield; a component group includes `<componentId>_default`. */
  variantIds: string[];
  /** The id meaning "no variant": `_default`, or `<componentId>_default`. */
  defaultId: string;
  /** The part before `_` of a component variant id. */
  componentId?: string;
}

/** Sitecore ids as Sitecore formats them for personalization: no braces or dashes, lower case. */
export function normalizeSitecoreId(id: string): string {
  return id.replace(/[{}-]/g, '').toLowerCase();
}

export const pageSlot = (pageId: string) => `page:${normalizeSitecoreId(pageId)}`;
export const componentSlot = (componentId: string) => `component:${componentId}`;

type Rendering = ComponentRendering | HtmlElementRendering;

/**
 * The variant ids a layout carries (the keys of its components' `experiences`, also inside
 * variants and nested placeholders), in document order, and the page id — what Experience Edge's
 * personalization query would return for the route.
 */
export function personalizeInfoOf(layout: LayoutServiceData): PersonalizeInfo | undefined {
  const route = layout.sitecore?.route;
  if (!route) return undefined;
  if (!route.itemId) throw new Error(`layout of route "${route.name}" has no itemId: the page id keys its variants`);
  const ids = new Set<string>();
  const walk = (placeholders: PlaceholdersData | undefined) => {
    for (const components of Object.values(placeholders ?? {})) {
      for (const c of components as Rendering[]) {
        const experiences = (c as { experiences?: Record<string, ComponentRendering> }).experiences;
        if (experiences) {
          for (const [id, variant] of Object.entries(experiences)) {
            ids.add(id);
            walk(variant?.placeholders);
          }
        }
        walk((c as ComponentRendering).placeholders);
      }
    }
  };
  walk(route.placeholders);
  return { pageId: route.itemId, variantIds: [...ids] };
}

/** Splits a route's variant ids into the page's group and one group per component. */
export function variantGroups(info: PersonalizeInfo): VariantGroup[] {
  const groups: VariantGroup[] = [];
  let page: VariantGroup | undefined;
  const components = new Map<string, VariantGroup>();
  for (const id of info.variantIds) {
    if (id === DEFAULT_VARIANT) continue;
    const cut = id.indexOf('_');
    if (cut < 0) {
      if (!page) {
        page = { slot: pageSlot(info.pageId), kind: 'page', variantIds: [], defaultId: DEFAULT_VARIANT };
        groups.push(page);
      }
      page.variantIds.push(id);
      continue;
    }
    const componentId = id.slice(0, cut);
    let group = components.get(componentId);
    if (!group) {
      const defaultId = `${componentId}${DEFAULT_VARIANT}`;
      group = { slot: componentSlot(componentId), kind: 'component', componentId, variantIds: [defaultId], defaultId };
      components.set(componentId, group);
      groups.push(group);
    }
    if (!group.variantIds.includes(id)) group.variantIds.push(id);
  }
  return groups;
}

/**
 * The Sitecore variant id an Attune decision stands for, or null for the default. The variant key
 * is the id (a page variant) or its part after `_` (a component variant; `default` is the
 * control); content `{ "variantId": "…" }` names the full id when a key cannot hold it. An id the
 * route does not have yields the default, as JSS does with an unknown variant.
 */
export function variantIdOf(group: VariantGroup, decision: SlotDecision | null): string | null {
  if (!decision || decision.variant === null) return null;
  const content = decision.content?.type === 'content' ? decision.content.content : undefined;
  const named = content !== null && typeof content === 'object' && typeof (content as { variantId?: unknown }).variantId === 'string' ? (content as { variantId: string }).variantId : undefined;
  let id: string;
  if (named !== undefined) id = named;
  else if (group.kind === 'page') id = decision.variant === 'default' ? DEFAULT_VARIANT : decision.variant;
  else id = `${group.componentId}_${decision.variant}`;
  if (id === group.defaultId || !group.variantIds.includes(id)) return null;
  return id;
}
