import { readFileSync } from 'node:fs';
import type { TemplateDelegate as HandlebarsTemplateDelegate } from 'handlebars';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSlotResolver, httpDecisionSource, memoryCache, type SlotResolver } from '@attune/render';
import { personalizeMiddleware } from '@attune/render/express';
import { registerPersonalizeHelpers } from '@attune/render/handlebars';
import { DEMO_CATEGORIES, type DemoProduct, demoCatalog, productProperties, slugify } from '@attune/server/demo';
import { trackerSnippet } from '@attune/tracker';
import { buildTracker } from '@attune/tracker/build';
import express, { type Request } from 'express';
import Handlebars from 'handlebars';
import { renderReactPage } from './react-page.tsx';
import { buildClientBundles } from './bundles.ts';

const VIEWS = join(dirname(fileURLToPath(import.meta.url)), 'views');

export interface StorefrontOptions {
  /** Attune's URL as the browser reaches it (the tracker posts there). */
  attuneUrl: string;
  /** Attune's URL as this server reaches it (default attuneUrl). */
  attuneServerUrl?: string;
  writeKey: string;
  /** For the /debug page only: reads the visitor's profile and decision traces. */
  secretKey?: string;
  /** Personalization on (default) or off: every slot shows its default. */
  personalize?: boolean;
  /** How long a page waits for decisions (default 150 ms). */
  budgetMs?: number;
}

interface CartLine {
  product: DemoProduct;
  quantity: number;
}

const RECOMMENDATION_TITLES: Record<string, string> = {
  'for-you': 'Recommended for you',
  'viewed-together': 'Customers also viewed',
  'more-like-this': 'Similar products',
  'bought-together': 'Frequently bought together',
  popular: 'Popular right now',
};

const SLOTS_BY_PAGE: Array<[RegExp, string[]]> = [
  [/^\/$/, ['hero', 'promo', 'recommendations']],
  [/^\/products\//, ['cta', 'promo', 'recommendations']],
  [/^\/cart$/, ['promo', 'recommendations']],
  [/^\/(category|search|checkout|account|requisition-list|quote|react)/, ['promo']],
];

function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/** The visitor as the tracker identified them: its first-party cookie and the signed-in user. */
export function visitorOf(req: Request): { anonymousId?: string; userId?: string } {
  const c = cookies(req);
  return { ...(c.attune_aid ? { anonymousId: c.attune_aid } : {}), ...(c.shop_user ? { userId: c.shop_user } : {}) };
}

/** Personalization needs the visitor's consent (the banner sets this cookie along with the tracker's state). */
function consented(req: Request): boolean {
  return cookies(req).shop_consent === 'accepted';
}

export async function createStorefront(options: StorefrontOptions): Promise<express.Express> {
  const serverUrl = options.attuneServerUrl ?? options.attuneUrl;
  const catalog = demoCatalog();
  const byId = new Map(catalog.map((p) => [p.product_id, p]));
  const bySlug = new Map(catalog.map((p) => [p.slug, p]));
  const carts = new Map<string, CartLine[]>();
  const tracker = await buildTracker();
  const bundles = await buildClientBundles();
  const resolver: SlotResolver = createSlotResolver({
    source: httpDecisionSource({ apiHost: serverUrl, key: options.writeKey }),
    budgetMs: options.budgetMs ?? 150,
    cache: memoryCache(),
  });

  const hb = Handlebars.create();
  registerPersonalizeHelpers(hb);
  hb.registerHelper('json', (v: unknown) => new hb.SafeString(JSON.stringify(v).replace(/</g, '\\u003c')));
  hb.registerHelper('eur', (v: number) => `€${Number(v).toFixed(2)}`);
  hb.registerHelper('productPath', (id: string) => {
    const p = byId.get(id);
    return p ? `/products/${p.slug}` : '#';
  });
  hb.registerHelper('recTitle', (strategy: string) => RECOMMENDATION_TITLES[strategy] ?? 'Recommended for you');
  for (const name of ['promo', 'productCard', 'recommendations']) {
    hb.registerPartial(name, readFileSync(join(VIEWS, 'partials', `${name}.hbs`), 'utf8'));
  }
  const templates = new Map<string, HandlebarsTemplateDelegate>();
  const template = (name: string) => {
    let t = templates.get(name);
    if (!t) {
      t = hb.compile(readFileSync(join(VIEWS, `${name}.hbs`), 'utf8'));
      templates.set(name, t);
    }
    return t;
  };
  const snippet = trackerSnippet({ writeKey: options.writeKey, apiHost: options.attuneUrl, scriptUrl: '/assets/attune.js', consentRequired: true });

  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false }));
  app.get('/assets/attune.js', (_req, res) => {
    res.type('application/javascript').send(tracker.script);
  });
  app.get('/assets/storefront.js', (_req, res) => {
    res.type('application/javascript').send(bundles.storefront);
  });
  app.get('/assets/static-page.js', (_req, res) => {
    res.type('application/javascript').send(bundles.static);
  });
  // A static page (no server-side decisions): personalized in the browser, with anti-flicker.
  app.get('/lookbook', (_req, res) => {
    res.send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lookbook</title><script>${snippet}</script></head><body>` +
        `<h1>Lookbook</h1><div data-attune-slot="promo" id="promo"><p data-attune-field="text">Free returns within 30 days.</p></div>` +
        `<div id="attune-static" data-api-host="${options.attuneUrl}" data-write-key="${options.writeKey}" data-budget-ms="${options.budgetMs ?? 150}"></div>` +
        `<script src="/assets/static-page.js" defer></script></body></html>`,
    );
  });
  app.get('/assets/react-page.js', (_req, res) => {
    res.type('application/javascript').send(bundles.react);
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use(
    personalizeMiddleware({
      resolver,
      slots: (req) => SLOTS_BY_PAGE.find(([re]) => re.test(req.path))?.[1] ?? [],
      ids: visitorOf,
      enabled: (req) => options.personalize !== false && consented(req) && visitorOf(req).anonymousId !== undefined,
      context: (req) => {
        const country = (req.query.country as string | undefined) ?? req.get('x-country');
        // Recommendation slots are seeded with the product on the page or the cart's items.
        const product = /^\/products\/([^/]+)/.exec(req.path);
        const productId = product ? bySlug.get(decodeURIComponent(product[1] as string))?.product_id : undefined;
        const items = req.path === '/cart' ? (carts.get(visitorOf(req).anonymousId ?? '') ?? []).map((l) => l.product.product_id) : [];
        return {
          locale: req.get('accept-language')?.split(',')[0] ?? 'en',
          ...(country ? { geo: { country: country.toUpperCase() } } : {}),
          ...(productId ? { productId } : {}),
          ...(items.length > 0 ? { items } : {}),
        };
      },
      // The variant is in the HTML now: record the exposure on the visitor's profile.
      onExposure: (ids, event, properties) => {
        void fetch(`${serverUrl}/v1/track`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...ids, event, properties, context: { source: 'storefront-ssr' } }),
        }).catch(() => undefined);
      },
    }),
  );

  const page = (res: express.Response, view: string, data: Record<string, unknown>) => {
    const req = res.req;
    const body = template(view)({ ...data, attune: res.locals.attune });
    const cart = carts.get(visitorOf(req).anonymousId ?? '') ?? [];
    res.send(
      template('layout')({
        body: new hb.SafeString(body),
        title: data.title ?? 'Attune Outfitters',
        snippet: new hb.SafeString(snippet),
        categories: DEMO_CATEGORIES.map((c) => ({ name: c.name, slug: slugify(c.name) })),
        cartCount: cart.reduce((n, l) => n + l.quantity, 0),
        user: visitorOf(req).userId,
        consent: cookies(req).shop_consent ?? null,
        pageEvent: data.pageEvent ?? null,
      }),
    );
  };
  const card = (p: DemoProduct) => ({ ...p, props: productProperties(p) });

  app.get('/', (_req, res) => {
    const featured = [...catalog].sort((a, b) => b.popularity - a.popularity).slice(0, 8).map(card);
    page(res, 'home', { title: 'Attune Outfitters', featured });
  });
  app.get('/category/:slug', (req, res) => {
    const category = DEMO_CATEGORIES.find((c) => slugify(c.name) === req.params.slug);
    if (!category) return void res.status(404).send('Not found');
    const products = catalog.filter((p) => p.category === category.name).map(card);
    page(res, 'category', { title: category.name, category: category.name, products, pageEvent: { event: 'Product List Viewed', properties: { list_id: req.params.slug, category: category.name, products: products.slice(0, 10).map((p) => ({ product_id: p.product_id, price: p.price })) } } });
  });
  app.get('/products/:slug', (req, res) => {
    const p = bySlug.get(req.params.slug as string);
    if (!p) return void res.status(404).send('Not found');
    page(res, 'product', { title: p.name, product: card(p), pageEvent: { event: 'Product Viewed', properties: productProperties(p) } });
  });
  app.get('/search', (req, res) => {
    const q = String(req.query.q ?? '').trim().toLowerCase();
    const results = q === '' ? [] : catalog.filter((p) => `${p.name} ${p.brand} ${p.category}`.toLowerCase().includes(q)).slice(0, 24).map(card);
    page(res, 'search', { title: 'Search', q, results, pageEvent: q ? { event: 'Products Searched', properties: { query: q, results: results.length } } : null });
  });
  app.post('/cart/add', (req, res) => {
    const id = visitorOf(req).anonymousId ?? 'no-consent';
    const p = byId.get(String(req.body.product_id));
    if (p) {
      const cart = carts.get(id) ?? [];
      const line = cart.find((l) => l.product.product_id === p.product_id);
      if (line) line.quantity++;
      else cart.push({ product: p, quantity: 1 });
      carts.set(id, cart);
    }
    res.redirect(303, '/cart');
  });
  app.post('/cart/remove', (req, res) => {
    const id = visitorOf(req).anonymousId ?? 'no-consent';
    carts.set(id, (carts.get(id) ?? []).filter((l) => l.product.product_id !== String(req.body.product_id)));
    res.redirect(303, '/cart');
  });
  const cartView = (req: Request) => {
    const lines = (carts.get(visitorOf(req).anonymousId ?? 'no-consent') ?? []).map((l) => ({ ...card(l.product), quantity: l.quantity, total: l.product.price * l.quantity }));
    return { lines, total: lines.reduce((n, l) => n + l.total, 0) };
  };
  app.get('/cart', (req, res) => {
    const cart = cartView(req);
    page(res, 'cart', { title: 'Cart', ...cart, pageEvent: { event: 'Cart Viewed', properties: { products: cart.lines.map((l) => ({ product_id: l.product_id, quantity: l.quantity, price: l.price })) } } });
  });
  app.get('/checkout', (req, res) => {
    const cart = cartView(req);
    page(res, 'checkout', { title: 'Checkout', ...cart, orderId: `o-${Date.now().toString(36)}`, pageEvent: { event: 'Checkout Started', properties: { value: cart.total, currency: 'EUR', products: cart.lines.map((l) => ({ product_id: l.product_id, quantity: l.quantity, price: l.price })) } } });
  });
  app.post('/checkout', (req, res) => {
    carts.delete(visitorOf(req).anonymousId ?? 'no-consent');
    res.redirect(303, `/account?ordered=${encodeURIComponent(String(req.body.order_id ?? ''))}`);
  });
  app.get('/signin', (_req, res) => page(res, 'signin', { title: 'Sign in' }));
  app.post('/signin', (req, res) => {
    const email = String(req.body.email ?? '').trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) return void res.status(400).send('Enter an email address');
    res.cookie('shop_user', email, { sameSite: 'lax', path: '/' });
    res.redirect(303, '/account?signedIn=1');
  });
  app.post('/signout', (_req, res) => {
    res.clearCookie('shop_user', { path: '/' });
    res.redirect(303, '/?signedOut=1');
  });
  app.get('/account', (req, res) => {
    page(res, 'account', { title: 'Account', email: visitorOf(req).userId, signedIn: req.query.signedIn === '1', ordered: req.query.ordered ?? null });
  });
  app.get('/requisition-list', (_req, res) => {
    const items = catalog.filter((p) => p.category === 'Tech' || p.category === 'Bags').slice(0, 6).map(card);
    page(res, 'requisition', { title: 'Requisition list', items, listId: 'rl-office' });
  });
  app.get('/quote', (_req, res) => {
    page(res, 'quote', { title: 'Quote', quoteId: 'q-1001', total: 4280 });
  });
  app.get('/react', (req, res) => {
    res.send(renderReactPage({ slots: res.locals.attune?.slots ?? {}, snippet, title: 'React storefront' }));
  });
  app.get('/debug', async (req, res) => {
    const ids = visitorOf(req);
    const headers = { authorization: `Bearer ${options.secretKey ?? ''}`, 'content-type': 'application/json' };
    let profile: unknown = null;
    let decisions: unknown = null;
    if (options.secretKey && (ids.anonymousId || ids.userId)) {
      const lookup = ids.userId ? `userId=${encodeURIComponent(ids.userId)}` : `anonymousId=${encodeURIComponent(ids.anonymousId as string)}`;
      const found = await fetch(`${serverUrl}/v1/profiles?${lookup}`, { headers }).catch(() => null);
      if (found?.ok) profile = await found.json();
      const decided = await fetch(`${serverUrl}/v1/decide`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ ...ids, context: { url: `${options.attuneUrl}/` }, slots: ['hero', 'promo', 'cta', 'recommendations'], explain: true, recordExposure: false }),
      }).catch(() => null);
      if (decided?.ok) decisions = await decided.json();
    }
    page(res, 'debug', { title: 'Debug', ids, profile, decisions, hasSecret: Boolean(options.secretKey) });
  });
  return app;
}
