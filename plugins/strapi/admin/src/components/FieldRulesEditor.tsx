import { Alert, Box, Button, Checkbox, Field, Flex, SingleSelect, SingleSelectOption, Table, Tbody, Td, TextInput, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { useState } from 'react';
import { errorMessage, type Rule, type RuleSet, type SettingsView, useApi } from '../api.ts';

const TRANSFORMS = ['richtext-to-text', 'media-to-url', 'relation-to-ids', 'hash', 'lowercase', 'trim'];

/**
 * The exported fields of one type: include or skip, rename, transform. Starts from the rules in
 * force (code, then Content-Type Builder, then this page) and saves this page's layer; the server
 * validates the rules against the schema and answers with what is wrong, where.
 */
export function FieldRulesEditor({ settings, onSaved }: { settings: SettingsView; onSaved: (s: SettingsView) => void }) {
  const api = useApi();
  const types = Object.keys(settings.schemas);
  const [type, setType] = useState(types[0] ?? '');
  const [draft, setDraft] = useState<RuleSet>({});
  const [message, setMessage] = useState<{ variant: 'success' | 'danger'; text: string } | null>(null);
  const schema = settings.schemas[type] ?? {};
  const rules = draft[type] ?? settings.effectiveFields[type] ?? { fields: {} };
  const skipByDefault = rules.default === 'skip';

  const setRule = (field: string, patch: Rule) => {
    const current = rules.fields[field] ?? {};
    const next: Rule = { ...current, ...patch };
    for (const k of Object.keys(next) as (keyof Rule)[]) if (next[k] === undefined || next[k] === '') delete next[k];
    setDraft({ ...draft, [type]: { ...rules, fields: { ...rules.fields, [field]: next } } });
  };
  const save = async () => {
    try {
      const saved = await api.put<SettingsView>('/settings', { fields: { ...settings.fields, ...draft } });
      onSaved(saved);
      setDraft({});
      setMessage({ variant: 'success', text: `Exported fields of ${type} saved.` });
    } catch (e) {
      setMessage({ variant: 'danger', text: errorMessage(e) });
    }
  };
  const source = (field: string) =>
    settings.fields[type]?.fields[field] ? 'settings' : settings.builderFields[type]?.fields[field] ? 'Content-Type Builder' : settings.codeFields[type]?.fields[field] ? 'config' : '—';

  return (
    <Flex direction="column" alignItems="stretch" gap={4}>
      {settings.builderIssues.length > 0 && (
        <Alert variant="danger" title="Content-Type Builder options to fix (exports are paused)" closeLabel="Close">
          <span style={{ whiteSpace: 'pre-line' }}>{settings.builderIssues.map((i) => `${i.path}: ${i.message}`).join('\n')}</span>
        </Alert>
      )}
      <Flex gap={4} alignItems="flex-end">
        <Field.Root name="field-rules-type">
          <Field.Label>Content type</Field.Label>
          <SingleSelect value={type} onChange={(v: string | number) => setType(String(v))} data-testid="field-rules-type">
            {types.map((t) => (
              <SingleSelectOption key={t} value={t}>
                {t}
              </SingleSelectOption>
            ))}
          </SingleSelect>
        </Field.Root>
        <Checkbox checked={skipByDefault} onCheckedChange={(c: boolean) => setDraft({ ...draft, [type]: { ...rules, default: c ? 'skip' : 'include' } })}>
          Skip fields unless included
        </Checkbox>
      </Flex>
      <Table colCount={5} rowCount={Object.keys(schema).length + 1}>
        <Thead>
          <Tr>
            <Th><Typography variant="sigma">Field</Typography></Th>
            <Th><Typography variant="sigma">Exported</Typography></Th>
            <Th><Typography variant="sigma">Export as</Typography></Th>
            <Th><Typography variant="sigma">Transform</Typography></Th>
            <Th><Typography variant="sigma">Set in</Typography></Th>
          </Tr>
        </Thead>
        <Tbody>
          {Object.entries(schema).map(([field, def]) => {
            const rule = rules.fields[field] ?? {};
            const included = rule.include ?? !skipByDefault;
            return (
              <Tr key={field} data-testid={`field-row-${field}`}>
                <Td>
                  <Typography fontWeight="bold">{field}</Typography> <Typography textColor="neutral600">({def.type})</Typography>
                </Td>
                <Td>
                  <Checkbox aria-label={`export ${field}`} checked={included} onCheckedChange={(c: boolean) => setRule(field, { include: c })} />
                </Td>
                <Td>
                  <TextInput aria-label={`rename ${field}`} placeholder={field} value={rule.rename ?? ''} onChange={(e: { target: { value: string } }) => setRule(field, { rename: e.target.value })} />
                </Td>
                <Td>
                  <SingleSelect aria-label={`transform ${field}`} placeholder="none" value={rule.transform ?? ''} onChange={(v: string | number) => setRule(field, { transform: v === 'none' ? undefined : String(v) })}>
                    <SingleSelectOption value="none">none</SingleSelectOption>
                    {TRANSFORMS.map((t) => (
                      <SingleSelectOption key={t} value={t}>
                        {t}
                      </SingleSelectOption>
                    ))}
                  </SingleSelect>
                </Td>
                <Td>{source(field)}</Td>
              </Tr>
            );
          })}
        </Tbody>
      </Table>
      <Box>
        <Button onClick={save}>Save exported fields</Button>
      </Box>
      {message && (
        <Alert variant={message.variant} title={message.variant === 'success' ? 'Saved' : 'Invalid field rules'} closeLabel="Close" onClose={() => setMessage(null)}>
          <span style={{ whiteSpace: 'pre-line' }} data-testid="field-rules-result">
            {message.text}
          </span>
        </Alert>
      )}
    </Flex>
  );
}
