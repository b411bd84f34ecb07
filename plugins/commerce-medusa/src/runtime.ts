import { type AttuneClient, type CommerceMapper, createAttuneClient, createCommerceMapper, fetchPort } from '@attune/core';
import type { MedusaContainer } from '@medusajs/framework/types';
import { ContainerRegistrationKeys } from '@medusajs/framework/utils';
import { PLUGIN_NAME, parseOptions, type ResolvedOptions } from './options.ts';

export interface AttuneRuntime {
  options: ResolvedOptions;
  client: AttuneClient;
  mapper: CommerceMapper;
}

const runtimes = new WeakMap<object, AttuneRuntime>();

interface PluginEntry {
  resolve?: string;
  options?: Record<string, unknown>;
}

/**
 * The plugin's options (from `plugins` in medusa-config, validated once), its Attune client
 * and the core mapper. Subscribers, jobs and routes get them from the container they are given.
 */
export function attuneRuntime(container: MedusaContainer): AttuneRuntime {
  const config = container.resolve(ContainerRegistrationKeys.CONFIG_MODULE) as { plugins?: Array<string | PluginEntry> };
  const have = runtimes.get(config);
  if (have) return have;
  const entries = (config.plugins ?? []).filter((p): p is PluginEntry => typeof p !== 'string');
  // Listed by package name, or by path (a local plugin): then recognised by its options.
  const entry = entries.find((p) => p.resolve === PLUGIN_NAME) ?? entries.find((p) => p.options !== undefined && 'attuneUrl' in p.options);
  if (!entry) throw new Error(`${PLUGIN_NAME}: not listed in medusa-config plugins with its options`);
  const options = parseOptions(entry.options);
  const runtime: AttuneRuntime = {
    options,
    client: createAttuneClient({ url: options.attuneUrl, writeKey: options.writeKey, secretKey: options.secretKey, fetch: fetchPort(fetch, (ms) => AbortSignal.timeout(ms)) }),
    mapper: createCommerceMapper({ source: options.source }),
  };
  runtimes.set(config, runtime);
  return runtime;
}

/** `query.graph` as the plugin uses it (typed loosely: the plugin reads few fields). */
export async function graph<T>(container: MedusaContainer, request: { entity: string; fields: string[]; filters?: Record<string, unknown>; pagination?: Record<string, unknown>; withDeleted?: boolean }): Promise<T[]> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY) as { graph: (r: unknown) => Promise<{ data: T[] }> };
  const { data } = await query.graph(request);
  return data;
}
