/**
 * The example JSS site: Express renders JSS layouts server-side. Attune's middleware decides the
 * page and component variants and rewrites the request to JSS's `/_variantId_…` path, as JSS's
 * personalize middleware does in Next.js; the page then reads the variants back from the path
 * and lets JSS's personalizeLayout apply them before rendering.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { httpDecisionSource, type ResolvedSlot } from '@attune/render';
import { cookie, createJssPersonalizer, personalizeInfoOf, type ResolvedVariants, variantManifest, variantsOfPath } from '@attune/sitecore-jss';
import { jssPersonalizeMiddleware } from '@attune/sitecore-jss/express';
import type { LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';
import express, { type Request } from 'express';
import { TEST_RIDE_EVENT } from './config.ts';
import { escapeHtml, renderRoute } from './render.ts';

export const LANGUAGES = ['en', 'da-DK', 'de-DE'];
const ROUTES: Record<string, string> = { '/': 'home', '/bikes': 'bikes' };
const require = createRequire(import.meta.url);

/** The site's layouts: the golden Layout Service fixtures shipped with @attune/sitecore-jss. */
function loadLayouts(): Map<string, LayoutServiceData> {
  const layouts = new Map<string, LayoutServiceData>();
  for (const [path, name] of Object.entries(ROUTES)) {
    for (const language of LANGUAGES) {
      const file = require.resolve(`@attune/sitecore-jss/fixtures/${name}.${language}.json`);
      layouts.set(`${language}:${path}`, JSON.parse(readFileSync(file, 'utf8')) as LayoutServiceData);
    }
  }
  return layouts;
}

export interface JssAppOptions {
  attuneUrl: string;
  writeKey: string;
  /** How long a page waits for Attune (default 150 ms). */
  budgetMs?: number;
  /** Off: no decisions, every page renders its default (the benchmark's baseline). */
  personalize?: boolean;
}

/** The request's cookies, read with the adapter's parser. */
const cookies = (req: Request) => ({ attune_aid: cookie(req, 'attune_aid'), jss_user: cookie(req, 'jss_user') });

export function createJssApp(options: JssAppOptions): express.Express {
  const layouts = loadLayouts();
  const layoutOf = async (path: string, language: string) => layouts.get(`${language}:${path}`) ?? null;
  const personalizer = createJssPersonalizer({
    source: httpDecisionSource({ apiHost: options.attuneUrl, key: options.writeKey, recordExposure: true }),
    budgetMs: options.budgetMs ?? 150,
  });
  const visitor = (req: Request) => {
    const c = cookies(req);
    return { ...(c.attune_aid ? { anonymousId: c.attune_aid } : {}), ...(c.jss_user ? { userId: c.jss_user } : {}) };
  };
  const track = async (req: Request, call: Record<string, unknown>, type = 'track') => {
    const res = await fetch(`${options.attuneUrl}/v1/${type}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...visitor(req), ...call, context: { source: 'jss-app' } }),
    });
    if (!res.ok) throw new Error(`Attune /v1/${type} answered ${res.status}: ${await res.text()}`);
  };
  const back = (req: Request) => {
    const ref = req.get('referer');
    return ref ? new URL(ref).pathname : '/';
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false }));

  // A first-time visitor gets an anonymous id before anything is decided for them.
  app.use((req, res, next) => {
    if (!cookies(req).attune_aid) {
      const id = randomUUID();
      res.cookie('attune_aid', id, { sameSite: 'lax', path: '/', maxAge: 365 * 86_400_000 });
      req.headers.cookie = `${req.headers.cookie ? `${req.headers.cookie}; ` : ''}attune_aid=${id}`;
    }
    next();
  });

  app.post('/actions/view', async (req, res) => {
    const category = String(req.query.category ?? '');
    if (!['Mountain', 'City'].includes(category)) {
      res.status(400).send(`unknown category "${escapeHtml(category)}": use Mountain or City`);
      return;
    }
    await track(req, { event: 'Product Viewed', properties: { category, product_id: category === 'Mountain' ? 'summit-29' : 'metro-7' } });
    res.redirect(303, back(req));
  });
  app.post('/actions/test-ride', async (req, res) => {
    await track(req, { event: TEST_RIDE_EVENT, properties: { page: back(req) } });
    res.redirect(303, back(req));
  });
  app.post('/actions/sign-in', async (req, res) => {
    const email = String(req.body?.email ?? '').trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
      res.status(400).send('sign in with an email address');
      return;
    }
    await track(req, { userId: email, traits: { email } }, 'identify');
    res.cookie('jss_user', email, { sameSite: 'lax', path: '/' });
    res.redirect(303, back(req));
  });
  app.post('/actions/sign-out', (req, res) => {
    res.clearCookie('jss_user', { path: '/' });
    res.redirect(303, back(req));
  });

  // What a static build would pre-render: each route's variant permutations (capped).
  app.get('/_manifest', (_req, res) => {
    res.json([...layouts.entries()].map(([key, layout]) => {
      const [language, path] = key.split(/:(.*)/) as [string, string];
      return variantManifest(personalizeInfoOf(layout) ?? { pageId: '', variantIds: [] }, { path, language, cap: 16 });
    }));
  });

  if (options.personalize !== false) app.use(jssPersonalizeMiddleware({ personalizer, mode: 'rewrite', layout: layoutOf, languages: LANGUAGES, ids: (r) => ({ anonymousId: cookie(r, 'attune_aid'), userId: cookie(r, 'jss_user') }) }));

  // The page: reads the variants from the (rewritten) path, as a JSS page does, and renders.
  app.get('/{*path}', async (req, res) => {
    const first = req.path.split('/')[1] ?? '';
    const language = LANGUAGES.find((l) => l.toLowerCase() === first.toLowerCase()) ?? 'en';
    const rest = language === first ? req.path.slice(first.length + 1) || '/' : req.path;
    const variants = variantsOfPath(rest);
    const layout = await layoutOf(variants.path, language);
    if (!layout) {
      res.status(404).send(page('Not found', `<h1>Not found</h1><p>No route ${escapeHtml(variants.path)} in ${escapeHtml(language)}.</p>`, language, variants.path, null, req));
      return;
    }
    const personalized = personalizer.apply(layout, variants);
    const title = String((personalized.sitecore.route?.fields?.pageTitle as { value?: string } | undefined)?.value ?? '');
    res.send(page(title, renderRoute(personalized), language, variants.path, (res.locals.attune?.variants as ResolvedVariants | undefined) ?? null, req));
  });
  return app;
}

function page(title: string, body: string, language: string, path: string, variants: ResolvedVariants | null, req: Request): string {
  const user = cookies(req).jss_user;
  const prefix = (l: string) => (l === 'en' ? '' : `/${l}`);
  const slots = variants ? Object.entries(variants.slots) : [];
  const rows = slots
    .map(([slot, s]: [string, ResolvedSlot & { variantId: string | null }]) => `<tr><td>${escapeHtml(slot)}</td><td class="source">${s.source}</td><td class="variant">${escapeHtml(s.variantId ?? 'default')}</td><td>${escapeHtml(s.decision?.experiment ?? '')}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="${escapeHtml(language)}"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Bikes &amp; Co.</title>
<style>body{font:16px system-ui;margin:2rem auto;max-width:52rem}.hero{background:#eef;padding:1rem}.columns{display:flex;gap:1rem}.column{flex:1}.cta-large button{font-size:1.4rem}table{font-size:.8rem;border-collapse:collapse}td{border:1px solid #ccc;padding:.2rem .4rem}</style></head>
<body>
<header><a href="${prefix(language) || '/'}">Home</a> · <a href="${prefix(language)}/bikes">Bikes</a> · ${LANGUAGES.map((l) => `<a href="${prefix(l)}${path === '/' && l !== 'en' ? '' : path}">${l}</a>`).join(' ')}
<form method="post" action="/actions/view?category=Mountain" style="display:inline"><button>View a mountain bike</button></form>
<form method="post" action="/actions/view?category=City" style="display:inline"><button>View a city bike</button></form>
${user ? `<form method="post" action="/actions/sign-out" style="display:inline">Signed in as ${escapeHtml(user)} <button>Sign out</button></form>` : `<form method="post" action="/actions/sign-in" style="display:inline"><input name="email" placeholder="email"><button>Sign in</button></form>`}
</header>
<main>
${body}
</main>
<details id="attune"><summary>Attune decisions for this page</summary><table><tr><th>slot</th><th>source</th><th>Sitecore variant</th><th>experiment</th></tr>${rows}</table></details>
</body></html>`;
}
