import { z } from 'zod';
import { configIdSchema } from '../../protocol/audiences.ts';

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null(), z.array(jsonValue).max(1000), z.record(z.string(), jsonValue)]),
);

/** `{{profile.traits.tier}}`, `{{context.locale}}`, `{{profile.id}}` … inside a string. */
export const TEMPLATE_TOKEN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;
const template = z
  .string()
  .max(4000)
  .refine((t) => [...t.matchAll(TEMPLATE_TOKEN)].every((m) => /^(profile|context)\./.test(m[1] as string)), {
    message: 'placeholders read {{profile.…}} or {{context.…}}',
  });

/** A response path: `data.items[0].price` or `data.items.0.price`. */
const responsePath = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[A-Za-z0-9_$-]+(\[\d+\]|\.[A-Za-z0-9_$-]+)*$/, 'must be a path such as "data.items[0].price"');

export const connectorSchema = z
  .object({
    id: configIdSchema,
    name: z.string().min(1).max(200),
    method: z.enum(['GET', 'POST']).default('GET'),
    url: template.refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL'),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'), template).optional(),
    /** JSON body template for POST; placeholders are replaced by JSON-encoded values. */
    body: template.optional(),
    /** Latency budget: past it the decision uses the cached, last good or fallback value. */
    timeoutMs: z.number().int().min(1).max(10_000).default(300),
    cache: z
      .object({ ttlMs: z.number().int().min(0).max(86_400_000), staleWhileRevalidateMs: z.number().int().min(0).max(86_400_000).default(0) })
      .strict()
      .optional(),
    /** Output name → path into the JSON response. */
    outputs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be an identifier'), responsePath),
    /** Values used when there is no live, cached or last good answer, per output. */
    fallback: z.record(z.string(), jsonValue).optional(),
    maxResponseBytes: z.number().int().min(1).max(5_000_000).default(256 * 1024),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.body !== undefined && c.method !== 'POST') ctx.addIssue({ code: 'custom', path: ['body'], message: 'only POST connectors send a body' });
    for (const k of Object.keys(c.fallback ?? {})) {
      if (!(k in c.outputs)) ctx.addIssue({ code: 'custom', path: ['fallback', k], message: `no output "${k}"` });
    }
  });

export type Connector = z.output<typeof connectorSchema>;
