import { exposureEvent, type ResolvedSlot, type SlotResolver } from './slots.ts';

/** What the DOM path needs of the tracker: ids, consent, and a way to record exposures. */
export interface TrackerLike {
  user(): { anonymousId: string | null; userId: string | null };
  allowed(purpose: 'personalization'): boolean;
  track(event: string, properties: Record<string, unknown>): void;
}

const HIDE_STYLE = '[data-attune-slot]{visibility:hidden}';

/**
 * Personalizes a static page in the browser: elements with `data-attune-slot="hero"` keep their
 * markup as the default; they are hidden (anti-flicker) until decisions arrive or `timeoutMs`
 * passes, then filled: an HTML payload replaces the element's content, JSON content fills its
 * `data-attune-field="key"` children. An exposure is recorded only for a variant really shown.
 */
export async function personalizeDocument(options: {
  resolver: SlotResolver;
  tracker: TrackerLike;
  context?: Record<string, unknown>;
  root?: ParentNode;
}): Promise<Record<string, ResolvedSlot>> {
  const root = options.root ?? document;
  const elements = [...root.querySelectorAll<HTMLElement>('[data-attune-slot]')];
  const slots = [...new Set(elements.map((e) => e.dataset.attuneSlot as string))];
  if (slots.length === 0 || !options.tracker.allowed('personalization')) return {};
  const style = document.createElement('style');
  style.textContent = HIDE_STYLE;
  document.head.appendChild(style);
  try {
    const { anonymousId, userId } = options.tracker.user();
    const resolved = await options.resolver.resolve({
      ...(anonymousId ? { anonymousId } : {}),
      ...(userId ? { userId } : {}),
      context: { url: location.href, referrer: document.referrer, locale: navigator.language, ...options.context },
      slots,
    });
    for (const el of elements) {
      const r = resolved[el.dataset.attuneSlot as string];
      if (!r?.decision?.content) continue;
      if (apply(el, r.decision.content as { type: string; [k: string]: unknown })) {
        el.dataset.attuneSource = r.source;
        if (r.decision.variant) el.dataset.attuneVariant = r.decision.variant;
        const exposure = exposureEvent(r.decision);
        if (exposure) options.tracker.track(exposure.event, exposure.properties);
      }
    }
    return resolved;
  } finally {
    style.remove();
  }
}

function apply(el: HTMLElement, payload: { type: string; [k: string]: unknown }): boolean {
  if (payload.type === 'html') {
    el.innerHTML = `${payload.css ? `<style>${payload.css as string}</style>` : ''}${payload.html as string}`;
    return true;
  }
  const content = payload.type === 'content' ? payload.content : payload.type === 'ref' ? (payload.offer as { content?: unknown } | undefined)?.content : payload.type === 'offers' ? (payload.offers as Array<{ content: unknown }>)[0]?.content : undefined;
  if (content === null || typeof content !== 'object') return false;
  let filled = false;
  for (const [key, value] of Object.entries(content as Record<string, unknown>)) {
    for (const target of el.querySelectorAll<HTMLElement>(`[data-attune-field="${key}"]`)) {
      if (target instanceof HTMLImageElement) target.src = String(value);
      else if (target instanceof HTMLAnchorElement && key.endsWith('href')) target.href = String(value);
      else target.textContent = String(value);
      filled = true;
    }
  }
  return filled;
}
