import { useFetchClient } from '@strapi/strapi/admin';
import { useCallback, useEffect, useState } from 'react';

/** The message of a failed plugin API call: the server's own (what was wrong and where), else the HTTP error. */
export function errorMessage(e: unknown): string {
  const r = e as { response?: { data?: { error?: { message?: string; details?: { errors?: { path: string; message: string }[] } } } }; message?: string };
  const err = r.response?.data?.error;
  if (err?.details?.errors?.length) return err.details.errors.map((i) => `${i.path}: ${i.message}`).join('\n');
  return err?.message ?? r.message ?? String(e);
}

export function useApi() {
  const client = useFetchClient();
  return {
    get: async <T,>(path: string) => (await client.get<T>(`/attune${path}`)).data,
    post: async <T,>(path: string, body?: unknown) => (await client.post<T>(`/attune${path}`, body ?? {})).data,
    put: async <T,>(path: string, body: unknown) => (await client.put<T>(`/attune${path}`, body)).data,
  };
}

/** Loads a plugin API path; `reload` fetches it again. */
export function useLoad<T>(path: string | null) {
  const api = useApi();
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: path !== null });
  const load = useCallback(async () => {
    if (path === null) return;
    setState((s) => ({ ...s, loading: true }));
    try {
      setState({ data: await api.get<T>(path), error: null, loading: false });
    } catch (e) {
      setState({ data: null, error: errorMessage(e), loading: false });
    }
    // api is recreated per render; the path decides.
  }, [path]);
  useEffect(() => {
    void load();
  }, [load]);
  return { ...state, reload: load, setData: (data: T) => setState({ data, error: null, loading: false }) };
}

export interface SectionSettings {
  enabled: boolean;
  cron: string;
  contentTypes: string[];
  locales: string[];
  status: 'published' | 'draft';
  batchSize: number;
  mode: 'incremental' | 'full';
  streamId: string;
}

export type Rule = { include?: boolean; rename?: string; transform?: string };
export type RuleSet = Record<string, { default?: 'include' | 'skip'; fields: Record<string, Rule> }>;

export interface SettingsView {
  engineUrl: string;
  secretKey: string;
  writeKey: string;
  exports: Record<'content' | 'products' | 'users', SectionSettings>;
  fields: RuleSet;
  effectiveFields: RuleSet;
  codeFields: RuleSet;
  builderFields: RuleSet;
  schemas: Record<string, Record<string, { type: string }>>;
  contentTypes: { uid: string; type: string }[];
  builderIssues: { path: string; message: string }[];
}

export interface RunRecord {
  id: number;
  section: string;
  status: 'running' | 'succeeded' | 'failed';
  trigger: string;
  mode: string;
  startedAt: string;
  finishedAt: string | null;
  items: number;
  batches: number;
  deleted: number;
  durationMs: number | null;
  progress: { contentType: string; items: number } | null;
  errors: { contentType: string; message: string }[] | null;
}
