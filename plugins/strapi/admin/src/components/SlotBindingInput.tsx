import { Field, Flex, SingleSelect, SingleSelectOption, Typography } from '@strapi/design-system';
import { forwardRef } from 'react';
import { useLoad } from '../api.ts';

type Binding = { kind: 'audience'; id: string; name?: string } | { kind: 'experiment'; id: string; variant: string; name?: string } | { kind: 'default'; name?: string };

interface Props {
  name: string;
  value?: Binding | null;
  onChange: (name: string, value: unknown) => void;
  label?: string;
  hint?: string;
  error?: string;
  required?: boolean;
  disabled?: boolean;
}

const keyOf = (b: Binding | null | undefined) => (!b ? '' : b.kind === 'default' ? 'default' : b.kind === 'audience' ? `audience:${b.id}` : `experiment:${b.id}:${b.variant}`);

/**
 * "Personalized slot" binding: the audience or experiment arm this variant is shown to, picked
 * from the engine's live lists (through the plugin's /attune/bindings route).
 */
const SlotBindingInput = forwardRef<HTMLDivElement, Props>(function SlotBindingInput({ name, value, onChange, label, hint, error, required, disabled }, ref) {
  const lists = useLoad<{ audiences: Binding[]; experiments: Binding[] }>('/bindings');
  const options: Binding[] = [{ kind: 'default', name: 'Everyone else (default)' }, ...(lists.data?.audiences ?? []), ...(lists.data?.experiments ?? [])];
  if (value && !options.some((o) => keyOf(o) === keyOf(value))) options.push(value);
  return (
    <Field.Root name={name} hint={hint} error={error ?? lists.error ?? undefined} required={required} ref={ref}>
      <Field.Label>{label ?? 'Shown to'}</Field.Label>
      <SingleSelect
        value={keyOf(value)}
        disabled={disabled}
        placeholder={lists.loading ? 'Loading audiences and experiments…' : 'Pick an audience or experiment arm'}
        onChange={(key: string | number) => {
          const picked = options.find((o) => keyOf(o) === key);
          onChange(name, picked ?? null);
        }}
      >
        {options.map((o) => (
          <SingleSelectOption key={keyOf(o)} value={keyOf(o)}>
            {o.kind === 'audience' ? `Audience: ${o.name ?? o.id}` : o.kind === 'experiment' ? `Experiment: ${o.name ?? `${o.id} / ${o.variant}`}` : (o.name ?? 'Default')}
          </SingleSelectOption>
        ))}
      </SingleSelect>
      <Flex>
        <Field.Hint />
        <Field.Error />
        {lists.error && <Typography textColor="danger600">{lists.error}</Typography>}
      </Flex>
    </Field.Root>
  );
});

export default SlotBindingInput;
