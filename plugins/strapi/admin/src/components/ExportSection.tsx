import { Alert, Badge, Box, Button, Checkbox, Field, Flex, NumberInput, ProgressBar, SingleSelect, SingleSelectOption, Table, Tbody, Td, Th, Thead, Toggle, Tr, Typography } from '@strapi/design-system';
import { useEffect, useState } from 'react';
import { errorMessage, type RunRecord, type SectionSettings, type SettingsView, useApi, useLoad } from '../api.ts';

type Section = 'content' | 'products' | 'users';

/** One export section: its schedule and options, "Run now" with progress, and its run history. */
export function ExportSection({ section, settings, onSaved }: { section: Section; settings: SettingsView; onSaved: (s: SettingsView) => void }) {
  const api = useApi();
  const [form, setForm] = useState<SectionSettings>(settings.exports[section]);
  const [message, setMessage] = useState<{ variant: 'success' | 'danger'; text: string } | null>(null);
  const history = useLoad<{ runs: RunRecord[] }>(`/exports/runs?section=${section}&limit=10`);
  const [running, setRunning] = useState<RunRecord | null>(null);

  useEffect(() => {
    if (!running || running.status !== 'running') return;
    const timer = setTimeout(async () => {
      try {
        const next = await api.get<RunRecord>(`/exports/runs/${running.id}`);
        setRunning(next);
        if (next.status !== 'running') void history.reload();
      } catch (e) {
        setMessage({ variant: 'danger', text: errorMessage(e) });
      }
    }, 500);
    return () => clearTimeout(timer);
    // polls while the run is running.
  }, [running]);

  const save = async () => {
    try {
      const saved = await api.put<SettingsView>('/settings', { exports: { [section]: form } });
      onSaved(saved);
      setMessage({ variant: 'success', text: `${section} export saved; next runs follow "${form.cron}".` });
    } catch (e) {
      setMessage({ variant: 'danger', text: errorMessage(e) });
    }
  };
  const runNow = async () => {
    try {
      setRunning(await api.post<RunRecord>(`/exports/${section}/run`));
    } catch (e) {
      setMessage({ variant: 'danger', text: errorMessage(e) });
    }
  };
  const set = <K extends keyof SectionSettings>(key: K, value: SectionSettings[K]) => setForm({ ...form, [key]: value });

  return (
    <Flex direction="column" alignItems="stretch" gap={4}>
      <Flex gap={4} wrap="wrap" alignItems="flex-start">
        <Field.Root name={`${section}-enabled`}>
          <Field.Label>Scheduled</Field.Label>
          <Toggle onLabel="On" offLabel="Off" checked={form.enabled} onChange={(e: { target: { checked: boolean } }) => set('enabled', e.target.checked)} />
        </Field.Root>
        <Field.Root name={`${section}-cron`} hint="Cron pattern, e.g. */30 * * * * or 0 */12 * * *">
          <Field.Label>Schedule</Field.Label>
          <Field.Input value={form.cron} onChange={(e: { target: { value: string } }) => set('cron', e.target.value)} />
          <Field.Hint />
        </Field.Root>
        <Field.Root name={`${section}-stream`} hint="Catalog stream the items go to">
          <Field.Label>Stream id</Field.Label>
          <Field.Input value={form.streamId} onChange={(e: { target: { value: string } }) => set('streamId', e.target.value)} />
          <Field.Hint />
        </Field.Root>
        <Field.Root name={`${section}-batch`}>
          <Field.Label>Batch size</Field.Label>
          <NumberInput value={form.batchSize} onValueChange={(v: number | undefined) => set('batchSize', v ?? 100)} />
        </Field.Root>
        <Field.Root name={`${section}-mode`}>
          <Field.Label>Mode</Field.Label>
          <SingleSelect value={form.mode} onChange={(v: string | number) => set('mode', v as SectionSettings['mode'])}>
            <SingleSelectOption value="incremental">Incremental (changes since the last run)</SingleSelectOption>
            <SingleSelectOption value="full">Full</SingleSelectOption>
          </SingleSelect>
        </Field.Root>
        {section !== 'users' && (
          <>
            <Field.Root name={`${section}-status`}>
              <Field.Label>Versions</Field.Label>
              <SingleSelect value={form.status} onChange={(v: string | number) => set('status', v as SectionSettings['status'])}>
                <SingleSelectOption value="published">Published</SingleSelectOption>
                <SingleSelectOption value="draft">Draft</SingleSelectOption>
              </SingleSelect>
            </Field.Root>
            <Field.Root name={`${section}-locales`} hint="Comma-separated; empty exports every locale">
              <Field.Label>Locales</Field.Label>
              <Field.Input
                value={form.locales.join(', ')}
                onChange={(e: { target: { value: string } }) =>
                  set(
                    'locales',
                    e.target.value
                      .split(',')
                      .map((s) => s.trim())
                      .filter(Boolean),
                  )
                }
              />
              <Field.Hint />
            </Field.Root>
          </>
        )}
      </Flex>
      {section !== 'users' && (
        <Flex gap={4} wrap="wrap">
          <Typography variant="sigma">Content types</Typography>
          {settings.contentTypes.map(({ uid, type }) => (
            <Checkbox
              key={uid}
              checked={form.contentTypes.includes(uid)}
              onCheckedChange={(checked: boolean) => set('contentTypes', checked ? [...form.contentTypes, uid] : form.contentTypes.filter((u) => u !== uid))}
            >
              {type}
            </Checkbox>
          ))}
        </Flex>
      )}
      <Flex gap={2}>
        <Button onClick={save}>Save {section} export</Button>
        <Button variant="secondary" onClick={runNow} disabled={running?.status === 'running'}>
          Run now
        </Button>
      </Flex>
      {message && (
        <Alert variant={message.variant} title={message.variant === 'success' ? 'Saved' : 'Problem'} closeLabel="Close" onClose={() => setMessage(null)}>
          <span style={{ whiteSpace: 'pre-line' }}>{message.text}</span>
        </Alert>
      )}
      {running && (
        <Box padding={4} background="neutral100" hasRadius data-testid="run-progress">
          <Typography>
            Run #{running.id}: {running.status} — {running.items} items in {running.batches} batches ({running.deleted} deletions){running.progress ? `, at ${running.progress.contentType}` : ''}
          </Typography>
          <ProgressBar value={running.status === 'running' ? 50 : 100} />
        </Box>
      )}
      <Table colCount={7} rowCount={(history.data?.runs.length ?? 0) + 1}>
        <Thead>
          <Tr>
            <Th><Typography variant="sigma">Run</Typography></Th>
            <Th><Typography variant="sigma">Started</Typography></Th>
            <Th><Typography variant="sigma">Trigger</Typography></Th>
            <Th><Typography variant="sigma">Status</Typography></Th>
            <Th><Typography variant="sigma">Items</Typography></Th>
            <Th><Typography variant="sigma">Duration</Typography></Th>
            <Th><Typography variant="sigma">Errors</Typography></Th>
          </Tr>
        </Thead>
        <Tbody>
          {(history.data?.runs ?? []).map((r) => (
            <Tr key={r.id}>
              <Td>#{r.id}</Td>
              <Td>{new Date(r.startedAt).toLocaleString()}</Td>
              <Td>{r.trigger}</Td>
              <Td>
                <Badge>{r.status}</Badge>
              </Td>
              <Td>
                {r.items} ({r.deleted} deleted)
              </Td>
              <Td>{r.durationMs === null ? '—' : `${(r.durationMs / 1000).toFixed(1)} s`}</Td>
              <Td>{(r.errors ?? []).map((e) => `${e.contentType}: ${e.message}`).join('; ') || '—'}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </Flex>
  );
}
