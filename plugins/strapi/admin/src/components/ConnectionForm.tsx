import { Alert, Box, Button, Field, Flex, Typography } from '@strapi/design-system';
import { useState } from 'react';
import { errorMessage, type SettingsView, useApi } from '../api.ts';

/** Engine URL and keys. Keys come back masked; leaving a masked key as it is keeps the saved one. */
export function ConnectionForm({ settings, onSaved }: { settings: SettingsView; onSaved: (s: SettingsView) => void }) {
  const api = useApi();
  const [form, setForm] = useState({ engineUrl: settings.engineUrl, secretKey: settings.secretKey, writeKey: settings.writeKey });
  const [message, setMessage] = useState<{ variant: 'success' | 'danger'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    setBusy(true);
    try {
      const saved = await api.put<SettingsView>('/settings', form);
      onSaved(saved);
      setForm({ engineUrl: saved.engineUrl, secretKey: saved.secretKey, writeKey: saved.writeKey });
      setMessage({ variant: 'success', text: 'Connection settings saved.' });
    } catch (e) {
      setMessage({ variant: 'danger', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };
  const test = async () => {
    setBusy(true);
    try {
      const r = await api.post<{ ok: boolean; checks: { name: string; ok: boolean; message: string }[] }>('/settings/test', form);
      setMessage({ variant: r.ok ? 'success' : 'danger', text: r.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.message}`).join('\n') });
    } catch (e) {
      setMessage({ variant: 'danger', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box background="neutral0" padding={6} shadow="tableShadow" hasRadius>
      <Flex direction="column" alignItems="stretch" gap={4}>
        <Typography variant="delta" tag="h2">
          Engine connection
        </Typography>
        <Field.Root name="engineUrl" hint="Where the Attune server runs, e.g. http://127.0.0.1:4000">
          <Field.Label>Engine URL</Field.Label>
          <Field.Input value={form.engineUrl} onChange={(e: { target: { value: string } }) => setForm({ ...form, engineUrl: e.target.value })} />
          <Field.Hint />
        </Field.Root>
        <Field.Root name="secretKey" hint="Used by Strapi's server only; never sent back in full">
          <Field.Label>Secret key</Field.Label>
          <Field.Input type="password" autoComplete="off" value={form.secretKey} onChange={(e: { target: { value: string } }) => setForm({ ...form, secretKey: e.target.value })} />
          <Field.Hint />
        </Field.Root>
        <Field.Root name="writeKey" hint="Sends users as profiles through the tracking API">
          <Field.Label>Write key</Field.Label>
          <Field.Input autoComplete="off" value={form.writeKey} onChange={(e: { target: { value: string } }) => setForm({ ...form, writeKey: e.target.value })} />
          <Field.Hint />
        </Field.Root>
        <Flex gap={2}>
          <Button onClick={save} loading={busy}>
            Save connection
          </Button>
          <Button variant="secondary" onClick={test} disabled={busy}>
            Test connection
          </Button>
        </Flex>
        {message && (
          <Alert variant={message.variant} title={message.variant === 'success' ? 'OK' : 'Problem'} closeLabel="Close" onClose={() => setMessage(null)}>
            <span style={{ whiteSpace: 'pre-line' }} data-testid="connection-result">
              {message.text}
            </span>
          </Alert>
        )}
      </Flex>
    </Box>
  );
}
