import { Alert, Box, Button, Field, Flex, IconButton, NumberInput, SingleSelect, SingleSelectOption, TextInput, Typography } from '@strapi/design-system';
import { Plus, Trash } from '@strapi/icons';
import { useEffect, useState } from 'react';
import { errorMessage, useApi } from '../api.ts';

type Row =
  | { kind: 'did' | 'did_not'; event: string; days: number | undefined; atLeast: number | undefined }
  | { kind: 'have'; trait: string; op: string; value: string };

const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'starts_with', 'exists'];

/** The rows as the engine's condition language: all of them must hold. */
export function toCondition(rows: Row[]): unknown {
  const nodes = rows.map((r) => {
    if (r.kind === 'have') {
      const numeric = r.value.trim() !== '' && !Number.isNaN(Number(r.value));
      return { have: { trait: r.trait.startsWith('traits.') || r.trait.startsWith('computed.') ? r.trait : `traits.${r.trait}`, op: r.op, ...(r.op === 'exists' ? {} : { value: numeric ? Number(r.value) : r.value }) } };
    }
    const body: Record<string, unknown> = { event: r.event };
    if (r.days) body.window = { last: { days: r.days } };
    if (r.kind === 'did' && r.atLeast && r.atLeast > 1) body.count = { op: 'at_least', value: r.atLeast };
    return { [r.kind]: body };
  });
  return nodes.length === 1 ? nodes[0] : { all: nodes };
}

/** did / did not / have conditions with a live size estimate from the engine. */
export function AudienceBuilder({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const [rows, setRows] = useState<Row[]>([{ kind: 'did', event: 'Product Viewed', days: 30, atLeast: 1 }]);
  const [size, setSize] = useState<{ matching: number; scanned: number } | null>(null);
  const [sizeError, setSizeError] = useState<string | null>(null);
  const [meta, setMeta] = useState({ id: '', name: '', groupId: 'strapi' });
  const [message, setMessage] = useState<{ variant: 'success' | 'danger'; text: string } | null>(null);

  useEffect(() => {
    const timer = setTimeout(async () => {
      try {
        setSize(await api.post<{ matching: number; scanned: number }>('/engine/audiences/preview', { condition: toCondition(rows) }));
        setSizeError(null);
      } catch (e) {
        setSize(null);
        setSizeError(errorMessage(e));
      }
    }, 400);
    return () => clearTimeout(timer);
    // re-estimates when the conditions change.
  }, [JSON.stringify(rows)]);

  const update = (i: number, patch: Partial<Row>) => setRows(rows.map((r, j) => (j === i ? ({ ...r, ...patch } as Row) : r)));
  const create = async () => {
    try {
      await api.post('/engine/audiences', { ...meta, condition: toCondition(rows) });
      setMessage({ variant: 'success', text: `Audience "${meta.name}" created.` });
      onCreated();
    } catch (e) {
      setMessage({ variant: 'danger', text: errorMessage(e) });
    }
  };

  return (
    <Flex direction="column" alignItems="stretch" gap={4}>
      {rows.map((row, i) => (
        <Flex key={i} gap={2} alignItems="flex-end" data-testid={`condition-${i}`}>
          <Field.Root name={`kind-${i}`}>
            <Field.Label>Condition</Field.Label>
            <SingleSelect
              value={row.kind}
              onChange={(v: string | number) =>
                update(i, v === 'have' ? ({ kind: 'have', trait: 'plan', op: 'eq', value: '' } as Row) : ({ kind: v as 'did', event: 'Product Viewed', days: 30, atLeast: 1 } as Row))
              }
            >
              <SingleSelectOption value="did">did</SingleSelectOption>
              <SingleSelectOption value="did_not">did not</SingleSelectOption>
              <SingleSelectOption value="have">have</SingleSelectOption>
            </SingleSelect>
          </Field.Root>
          {row.kind === 'have' ? (
            <>
              <Field.Root name={`trait-${i}`}>
                <Field.Label>Trait</Field.Label>
                <TextInput value={row.trait} onChange={(e: { target: { value: string } }) => update(i, { trait: e.target.value })} />
              </Field.Root>
              <Field.Root name={`op-${i}`}>
                <Field.Label>Operator</Field.Label>
                <SingleSelect value={row.op} onChange={(v: string | number) => update(i, { op: String(v) })}>
                  {OPS.map((o) => (
                    <SingleSelectOption key={o} value={o}>
                      {o}
                    </SingleSelectOption>
                  ))}
                </SingleSelect>
              </Field.Root>
              <Field.Root name={`value-${i}`}>
                <Field.Label>Value</Field.Label>
                <TextInput value={row.value} onChange={(e: { target: { value: string } }) => update(i, { value: e.target.value })} />
              </Field.Root>
            </>
          ) : (
            <>
              <Field.Root name={`event-${i}`}>
                <Field.Label>Event</Field.Label>
                <TextInput value={row.event} onChange={(e: { target: { value: string } }) => update(i, { event: e.target.value })} />
              </Field.Root>
              <Field.Root name={`days-${i}`}>
                <Field.Label>In the last (days)</Field.Label>
                <NumberInput value={row.days} onValueChange={(v: number | undefined) => update(i, { days: v })} />
              </Field.Root>
              {row.kind === 'did' && (
                <Field.Root name={`count-${i}`}>
                  <Field.Label>At least (times)</Field.Label>
                  <NumberInput value={row.atLeast} onValueChange={(v: number | undefined) => update(i, { atLeast: v })} />
                </Field.Root>
              )}
            </>
          )}
          <IconButton label="Remove condition" onClick={() => setRows(rows.filter((_, j) => j !== i))} disabled={rows.length === 1}>
            <Trash />
          </IconButton>
        </Flex>
      ))}
      <Box>
        <Button variant="tertiary" startIcon={<Plus />} onClick={() => setRows([...rows, { kind: 'have', trait: 'plan', op: 'eq', value: '' }])}>
          Add condition
        </Button>
      </Box>
      <Box padding={4} background="primary100" hasRadius data-testid="audience-size">
        {size ? (
          <Typography variant="omega" fontWeight="bold">
            Estimated size: {size.matching} of {size.scanned} profiles
          </Typography>
        ) : (
          <Typography textColor="danger600">{sizeError ?? 'Estimating…'}</Typography>
        )}
      </Box>
      <Flex gap={2} alignItems="flex-end">
        <Field.Root name="audience-id" hint="lower-case letters, digits, - or _">
          <Field.Label>Audience id</Field.Label>
          <TextInput value={meta.id} onChange={(e: { target: { value: string } }) => setMeta({ ...meta, id: e.target.value })} />
        </Field.Root>
        <Field.Root name="audience-name">
          <Field.Label>Name</Field.Label>
          <TextInput value={meta.name} onChange={(e: { target: { value: string } }) => setMeta({ ...meta, name: e.target.value })} />
        </Field.Root>
        <Button onClick={create}>Create audience</Button>
      </Flex>
      {message && (
        <Alert variant={message.variant} title={message.variant === 'success' ? 'Created' : 'Problem'} closeLabel="Close" onClose={() => setMessage(null)}>
          <span style={{ whiteSpace: 'pre-line' }}>{message.text}</span>
        </Alert>
      )}
    </Flex>
  );
}
