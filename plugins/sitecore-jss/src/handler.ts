/**
 * A framework-neutral request handler: for a page request it resolves the route's variants and
 * answers with the `/_variantId_…` path to render (as JSS's personalize middleware rewrites) or
 * with the personalized layout. Hosts translate their request into `JssRequest` and act on the
 * answer; see `./express.ts` for Express.
 */
import type { LayoutServiceData } from '@sitecore-jss/sitecore-jss/layout.js';
import jssPersonalize from '@sitecore-jss/sitecore-jss/personalize.js';
import type { JssPersonalizer, ResolvedVariants, VisitorIds } from './personalizer.ts';
import { pickPermutation, type VariantManifest } from './static.ts';
import { type PersonalizeInfo, personalizeInfoOf } from './variants.ts';

const { normalizePersonalizedRewrite } = jssPersonalize;

/** The parts of a request the handler reads (a Fetch `Request` fits). */
export interface JssRequest {
  /** Absolute URL, or a path with its query. */
  url: string;
  headers: { get(name: string): string | null } | Record<string, string | string[] | undefined>;
}

export type JssHandleResult =
  | { action: 'rewrite'; path: string; variants: ResolvedVariants; /** With `permutations`: whether the visitor's exact permutation was built. */ exact?: boolean }
  | { action: 'layout'; layout: LayoutServiceData; variants: ResolvedVariants }
  | { action: 'pass'; reason: 'excluded' | 'disabled' | 'prefetch' | 'not-found' | 'editing'; path: string; language: string };

export interface JssHandlerOptions {
  personalizer: JssPersonalizer;
  /** `rewrite`: answer the path to render; `layout`: answer the personalized layout (needs `layout`). */
  mode: 'rewrite' | 'layout';
  /** The route's layout (Layout Service or Experience Edge); null when there is no such route. */
  layout?: (path: string, language: string) => Promise<LayoutServiceData | null>;
  /** The route's variant ids, e.g. JSS's GraphQLPersonalizeService.getPersonalizeInfo; default: read from `layout`. */
  personalizeInfo?: (path: string, language: string) => Promise<PersonalizeInfo | undefined>;
  /**
   * Static builds: the route's pre-rendered permutations (`variantManifest`). The rewrite then
   * goes to the built permutation closest to the visitor's variants.
   */
  permutations?: (path: string, language: string) => VariantManifest | undefined;
  /** Languages a path may start with (`/da-DK/about`); default language otherwise ("en"). */
  languages?: string[];
  defaultLanguage?: string;
  /** The visitor's ids; default: the tracker's `attune_aid` cookie. */
  ids?: (request: JssRequest) => VisitorIds;
  /** More decide context (geo, device…); url, referrer and UTM parameters are filled in. */
  context?: (request: JssRequest) => Record<string, unknown>;
  /** Routes never personalized; files (a `.` in the path) are always excluded, as JSS does. */
  exclude?: (path: string) => boolean;
  /** Personalization off for this request (e.g. no consent): every component renders its default. */
  enabled?: (request: JssRequest) => boolean;
}

export interface JssHandler {
  handle(request: JssRequest): Promise<JssHandleResult>;
}

export function header(request: JssRequest, name: string): string | undefined {
  const h = request.headers;
  if (typeof (h as { get?: unknown }).get === 'function') return (h as { get(n: string): string | null }).get(name) ?? undefined;
  const v = (h as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function cookie(request: JssRequest, name: string): string | undefined {
  for (const part of (header(request, 'cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Next.js and browsers mark speculative loads; deciding on them would count exposures nobody saw. */
function isPrefetch(request: JssRequest): boolean {
  return header(request, 'purpose') === 'prefetch' || header(request, 'sec-purpose')?.includes('prefetch') === true || header(request, 'x-middleware-prefetch') !== undefined;
}

export function createJssHandler(options: JssHandlerOptions): JssHandler {
  if (options.mode === 'layout' && !options.layout) throw new Error('createJssHandler: mode "layout" needs a `layout` loader');
  if (!options.layout && !options.personalizeInfo) throw new Error('createJssHandler: give `personalizeInfo` or `layout` to find the variants of a route');
  const languages = new Map((options.languages ?? []).map((l) => [l.toLowerCase(), l]));
  const defaultLanguage = options.defaultLanguage ?? 'en';
  const idsOf = options.ids ?? ((r: JssRequest) => ({ anonymousId: cookie(r, 'attune_aid') }));

  /** The route path and language of a URL path; `prefix` is the language segment it started with. */
  function locate(pathname: string): { path: string; language: string; prefix: string } {
    const path = normalizePersonalizedRewrite(pathname);
    const first = path.split('/')[1] ?? '';
    const language = languages.get(first.toLowerCase());
    if (!language) return { path, language: defaultLanguage, prefix: '' };
    return { path: path.slice(first.length + 1) || '/', language, prefix: `/${first}` };
  }

  return {
    async handle(request) {
      const url = new URL(request.url, 'http://localhost');
      const { path, language, prefix } = locate(url.pathname);
      const pass = (reason: Extract<JssHandleResult, { action: 'pass' }>['reason']) => ({ action: 'pass' as const, reason, path, language });
      if (path.includes('.') || options.exclude?.(path)) return pass('excluded');
      if (options.enabled?.(request) === false) return pass('disabled');
      if (isPrefetch(request)) return pass('prefetch');

      let layout: LayoutServiceData | null | undefined;
      let info: PersonalizeInfo | undefined;
      if (options.personalizeInfo) info = await options.personalizeInfo(path, language);
      else {
        layout = await options.layout?.(path, language);
        if (layout?.sitecore?.context?.pageEditing) return pass('editing');
        info = layout ? personalizeInfoOf(layout) : undefined;
      }
      if (options.mode === 'layout') {
        layout ??= await options.layout?.(path, language);
        if (!layout?.sitecore?.route) return pass('not-found');
        if (layout.sitecore.context?.pageEditing) return pass('editing');
      } else if (!info && !layout) return pass('not-found');

      const utm: Record<string, string> = {};
      for (const [k, v] of url.searchParams) if (k.startsWith('utm_')) utm[k.slice(4)] = v;
      const referrer = header(request, 'referer');
      const variants = await options.personalizer.resolve({
        ...idsOf(request),
        path,
        language,
        info,
        context: {
          url: url.href,
          ...(referrer ? { referrer } : {}),
          ...(Object.keys(utm).length > 0 ? { utm } : {}),
          ...options.context?.(request),
        },
      });
      if (options.mode === 'layout') return { action: 'layout', layout: options.personalizer.apply(layout as LayoutServiceData, variants), variants };
      const built = options.permutations?.(path, language);
      const picked = built ? pickPermutation(built, variants.variantIds) : undefined;
      const rewritten = picked ? picked.permutation.path : options.personalizer.rewrite(variants);
      return { action: 'rewrite', path: `${prefix}${prefix && rewritten === '/' ? '' : rewritten}${url.search}`, variants, ...(picked ? { exact: picked.exact } : {}) };
    },
  };
}
