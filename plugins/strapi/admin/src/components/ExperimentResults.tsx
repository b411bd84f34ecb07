import { Box, Field, Flex, SingleSelect, SingleSelectOption, Table, Tbody, Td, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, ErrorBar, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useLoad } from '../api.ts';

interface VariantResult {
  variant: string;
  exposures: number;
  conversions: number;
  rate: number;
  rateCi95: [number, number];
  lift: number | null;
  liftCi95: [number, number] | null;
  probabilityToBeatControl: number | null;
}
interface Results {
  experiment: string;
  goal: string;
  control: string;
  variants: VariantResult[];
  sampleRatio: { pValue: number; mismatch: boolean } | null;
}

const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);

/** Conversion rates with 95% intervals and the probability of beating the control, per variant. */
export function ExperimentResults() {
  const experiments = useLoad<{ experiments: { id: string; name: string }[] }>('/engine/experiments');
  const [id, setId] = useState<string>('');
  const results = useLoad<Results>(id ? `/engine/experiments/${encodeURIComponent(id)}/results` : null);
  const data = (results.data?.variants ?? []).map((v) => ({
    variant: v.variant,
    rate: v.rate * 100,
    // ErrorBar takes the distance below and above the bar.
    interval: [(v.rate - v.rateCi95[0]) * 100, (v.rateCi95[1] - v.rate) * 100],
    beat: v.probabilityToBeatControl === null ? 0 : v.probabilityToBeatControl * 100,
  }));
  return (
    <Flex direction="column" alignItems="stretch" gap={4}>
      <Field.Root name="experiment">
        <Field.Label>Experiment</Field.Label>
        <SingleSelect placeholder="Pick an experiment" value={id} onChange={(v: string | number) => setId(String(v))}>
          {(experiments.data?.experiments ?? []).map((x) => (
            <SingleSelectOption key={x.id} value={x.id}>
              {x.name} ({x.id})
            </SingleSelectOption>
          ))}
        </SingleSelect>
      </Field.Root>
      {experiments.error && <Typography textColor="danger600">{experiments.error}</Typography>}
      {results.error && <Typography textColor="danger600">{results.error}</Typography>}
      {results.data && (
        <>
          <Typography>
            Goal <b>{results.data.goal}</b>, control <b>{results.data.control}</b>
            {results.data.sampleRatio?.mismatch ? ' — sample ratio mismatch: check the traffic split before reading results' : ''}
          </Typography>
          <Flex gap={4} wrap="wrap">
            <Box background="neutral0" padding={4} hasRadius shadow="tableShadow" data-testid="rate-chart">
              <Typography variant="sigma">Conversion rate (95% interval)</Typography>
              <ResponsiveContainer width={420} height={240}>
                <BarChart data={data}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="variant" />
                  <YAxis unit="%" />
                  <Tooltip formatter={(v: unknown) => `${Number(v).toFixed(2)}%`} />
                  <Bar dataKey="rate" fill="#4945ff" isAnimationActive={false}>
                    <ErrorBar dataKey="interval" direction="y" width={8} strokeWidth={2} stroke="#32324d" />
                  </Bar>
                </BarChart>
              </ResponsiveContainer>
            </Box>
            <Box background="neutral0" padding={4} hasRadius shadow="tableShadow" data-testid="beat-chart">
              <Typography variant="sigma">Probability to beat control</Typography>
              <ResponsiveContainer width={420} height={240}>
                <BarChart data={data.filter((d) => d.variant !== results.data?.control)}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="variant" />
                  <YAxis unit="%" domain={[0, 100]} />
                  <Tooltip formatter={(v: unknown) => `${Number(v).toFixed(1)}%`} />
                  <Bar dataKey="beat" fill="#328048" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </Box>
          </Flex>
          <Table colCount={6} rowCount={results.data.variants.length + 1}>
            <Thead>
              <Tr>
                {['Variant', 'Exposures', 'Conversions', 'Rate (95% interval)', 'Lift (95% interval)', 'P(beat control)'].map((h) => (
                  <Th key={h}>
                    <Typography variant="sigma">{h}</Typography>
                  </Th>
                ))}
              </Tr>
            </Thead>
            <Tbody>
              {results.data.variants.map((v) => (
                <Tr key={v.variant}>
                  <Td>{v.variant}</Td>
                  <Td>{v.exposures}</Td>
                  <Td>{v.conversions}</Td>
                  <Td>
                    {pct(v.rate, 2)} ({pct(v.rateCi95[0], 2)} – {pct(v.rateCi95[1], 2)})
                  </Td>
                  <Td>{v.lift === null ? '—' : `${pct(v.lift)} (${pct(v.liftCi95?.[0])} – ${pct(v.liftCi95?.[1])})`}</Td>
                  <Td>{pct(v.probabilityToBeatControl)}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        </>
      )}
    </Flex>
  );
}
