/**
 * A small server-side renderer of JSS layout data: each rendering's componentName picks a
 * component, which renders its fields and its placeholders. It plays the part a JSS app's
 * component factory plays (React, Angular, Vue); the layout it receives is already personalized.
 */
import type { ComponentRendering, HtmlElementRendering, LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';

export const escapeHtml = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

type Fields = Record<string, { value?: unknown } | unknown>;
const text = (fields: Fields | undefined, name: string) => escapeHtml((fields?.[name] as { value?: unknown } | undefined)?.value ?? '');
const value = <T>(fields: Fields | undefined, name: string) => (fields?.[name] as { value?: T } | undefined)?.value;

type Component = (c: ComponentRendering, placeholder: (name: string) => string) => string;

const COMPONENTS: Record<string, Component> = {
  Navigation: (c) => `<nav class="nav"><strong>${text(c.fields, 'title')}</strong></nav>`,
  Hero: (c) => {
    const img = value<{ src: string; alt: string }>(c.fields, 'image');
    return `<section class="hero" data-uid="${escapeHtml(c.uid)}"><h1>${text(c.fields, 'heading')}</h1>${img ? `<img src="${escapeHtml(img.src)}" alt="${escapeHtml(img.alt)}">` : ''}</section>`;
  },
  Promo: (c) => `<aside class="promo">${text(c.fields, 'text')}</aside>`,
  LoyaltyBanner: (c) => `<aside class="loyalty">${text(c.fields, 'text')}</aside>`,
  Teaser: (c) => `<article class="teaser"><h2>${text(c.fields, 'title')}</h2></article>`,
  CallToAction: (c) => cta(c, 'cta'),
  CallToActionLarge: (c) => cta(c, 'cta cta-large'),
  ColumnSplitter: (c, ph) =>
    `<div class="columns">${Object.keys(c.placeholders ?? {})
      .map((name) => `<div class="column">${ph(name)}</div>`)
      .join('')}</div>`,
  Container: (c, ph) => `<div class="container ${escapeHtml(c.params?.styles ?? '')}">${ph('container-1')}</div>`,
  ProductGrid: (c) => {
    const items = (c.fields?.items ?? []) as unknown as Array<{ id: string; name: string; price: number }>;
    return `<section class="grid"><h2>${text(c.fields, 'title')}</h2><ul>${items.map((i) => `<li>${escapeHtml(i.name)} — ${escapeHtml(i.price)}</li>`).join('')}</ul></section>`;
  },
  Footer: (c) => `<footer>${text(c.fields, 'text')}</footer>`,
};

function cta(c: ComponentRendering, cls: string): string {
  return `<form class="${cls}" method="post" action="/actions/test-ride"><button data-component="${escapeHtml(c.componentName)}">${text(c.fields, 'label')}</button></form>`;
}

export function renderPlaceholder(components: Array<ComponentRendering | HtmlElementRendering> | undefined): string {
  return (components ?? [])
    .map((r) => {
      const c = r as ComponentRendering;
      const component = COMPONENTS[c.componentName];
      if (!component) return `<!-- no component "${escapeHtml(c.componentName)}" -->`;
      return component(c, (name) => renderPlaceholder(c.placeholders?.[name]));
    })
    .join('\n');
}

/** The page's body from its route placeholders, in the order a header/main/footer layout has them. */
export function renderRoute(layout: LayoutServiceData): string {
  const ph = layout.sitecore.route?.placeholders ?? {};
  return ['headless-header', 'headless-main', 'headless-footer'].map((name) => `<div class="ph" data-placeholder="${name}">${renderPlaceholder(ph[name])}</div>`).join('\n');
}
