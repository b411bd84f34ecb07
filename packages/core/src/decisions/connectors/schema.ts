import { z } from 'zod';
import { configIdSchema } from '../../protocol/audiences.ts';
import { jsonTemplateProblem, TEMPLATE_TOKEN, templatePaths } from './template.ts';

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null(), z.array(jsonValue).max(1000), z.record(z.string(), jsonValue)]),
);

const template = z
  .string()
  .max(4000)
  .refine((t) => templatePaths(t).every((p) => /^(profile|context)\./.test(p)), {
    message: 'placeholders read {{profile.…}} or {{context.…}}',
  });

/**
 * The scheme and host are fixed by whoever configures the connector: placeholders may fill the
 * path, query and fragment only, so a request's context can never pick the host to call.
 */
const urlTemplate = template.superRefine((u, ctx) => {
  const authority = /^https?:\/\/([^/?#]*)/i.exec(u);
  if (!authority) {
    ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
  } else if ((authority[1] as string).includes('{{')) {
    ctx.addIssue({ code: 'custom', message: 'placeholders may fill the path and query, not the host' });
  } else if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(authority[1] as string)) {
    ctx.addIssue({ code: 'custom', message: 'must name a host (and optional port), without credentials' });
  } else if (/\s/.test(u.replace(TEMPLATE_TOKEN, ''))) {
    ctx.addIssue({ code: 'custom', message: 'must not contain white space' });
  }
});

/** Headers the HTTP client owns; letting a connector set them would break or redirect the request. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive']);

// Checked on the record, not as a key schema, so the issue says what is wrong with the name.
const headerNames = (headers: Record<string, string>, ctx: z.RefinementCtx) => {
  for (const name of Object.keys(headers)) {
    if (!/^[A-Za-z0-9-]{1,100}$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'must be a header name' });
    else if (RESERVED_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: 'is set by the HTTP client and cannot be configured' });
  }
};

const headerTemplate = template.refine((t) => /^[\t\x20-\x7e]*$/.test(t.replace(TEMPLATE_TOKEN, '')), 'must be visible ASCII (no line breaks)');

const bodyTemplate = template.superRefine((t, ctx) => {
  const problem = jsonTemplateProblem(t);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
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
    /** Placeholders in the URL are percent-encoded. */
    url: urlTemplate,
    /** Header values; placeholders must fill in visible ASCII. */
    headers: z.record(z.string(), headerTemplate).superRefine(headerNames).optional(),
    /** JSON body template for POST: a placeholder is a JSON value, or escaped text inside a string. */
    body: bodyTemplate.optional(),
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
      if (!Object.hasOwn(c.outputs, k)) ctx.addIssue({ code: 'custom', path: ['fallback', k], message: `no output "${k}"` });
    }
  });

export type Connector = z.output<typeof connectorSchema>;
