import type { HelperOptions } from 'handlebars';
import { type ResolvedSlot, slotContent } from './slots.ts';

/** The structural type of a Handlebars environment (`Handlebars.create()`): helpers take any arguments. */
type HandlebarsLike = { registerHelper(name: string, fn: any): void; SafeString: new (s: string) => unknown };

/**
 * `{{#personalize "hero"}}…{{else}}default{{/personalize}}` in Handlebars views: the block renders
 * with the slot's content as its context; HTML payloads are inserted as they are; without a
 * decision the `{{else}}` part (the default) renders. Decisions come from `attune.slots` in the
 * view data (the Express middleware puts them there).
 */
export function registerPersonalizeHelpers(hb: HandlebarsLike): void {
  hb.registerHelper('personalize', function (this: unknown, slot: string, options: HelperOptions) {
    const root = options.data?.root as { attune?: { slots?: Record<string, ResolvedSlot> } } | undefined;
    const resolved = root?.attune?.slots?.[slot];
    const decision = resolved?.decision ?? null;
    if (!decision?.content) return options.inverse(this);
    if (decision.content.type === 'html') {
      const c = decision.content as unknown as { html: string; css?: string };
      return new hb.SafeString(`${c.css ? `<style>${c.css}</style>` : ''}${c.html}`);
    }
    const content = slotContent(decision);
    return options.fn(content, { data: { ...options.data, decision, source: resolved?.source } });
  });
}
