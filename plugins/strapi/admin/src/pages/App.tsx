import { Badge, Box, Field, Flex, SingleSelect, SingleSelectOption, Table, Tabs, Tbody, Td, TextInput, Th, Thead, Tr, Typography } from '@strapi/design-system';
import { Layouts, Page } from '@strapi/strapi/admin';
import { useState } from 'react';
import { useLoad } from '../api.ts';
import { AudienceBuilder } from '../components/AudienceBuilder.tsx';
import { ExperimentResults } from '../components/ExperimentResults.tsx';

interface Audience {
  id: string;
  name: string;
  groupId: string;
}
interface Experience {
  id: string;
  name: string;
  status: string;
  type: string;
  variants: { key: string; name?: string }[];
}

function Audiences() {
  const list = useLoad<{ audiences: Audience[] }>('/engine/audiences');
  return (
    <Flex direction="column" alignItems="stretch" gap={6}>
      <AudienceBuilder onCreated={() => void list.reload()} />
      {list.error && <Typography textColor="danger600">{list.error}</Typography>}
      <Table colCount={3} rowCount={(list.data?.audiences.length ?? 0) + 1}>
        <Thead>
          <Tr>
            <Th><Typography variant="sigma">Audience</Typography></Th>
            <Th><Typography variant="sigma">Id</Typography></Th>
            <Th><Typography variant="sigma">Group</Typography></Th>
          </Tr>
        </Thead>
        <Tbody>
          {(list.data?.audiences ?? []).map((a) => (
            <Tr key={a.id}>
              <Td>{a.name}</Td>
              <Td>{a.id}</Td>
              <Td>{a.groupId}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </Flex>
  );
}

function Experiences() {
  const list = useLoad<{ experiences: Experience[] }>('/engine/experiences');
  if (list.error) return <Typography textColor="danger600">{list.error}</Typography>;
  return (
    <Table colCount={4} rowCount={(list.data?.experiences.length ?? 0) + 1}>
      <Thead>
        <Tr>
          <Th><Typography variant="sigma">Experience</Typography></Th>
          <Th><Typography variant="sigma">Type</Typography></Th>
          <Th><Typography variant="sigma">Status</Typography></Th>
          <Th><Typography variant="sigma">Variants</Typography></Th>
        </Tr>
      </Thead>
      <Tbody>
        {(list.data?.experiences ?? []).map((x) => (
          <Tr key={x.id}>
            <Td>{x.name}</Td>
            <Td>{x.type}</Td>
            <Td>
              <Badge>{x.status}</Badge>
            </Td>
            <Td>{x.variants.map((v) => v.name ?? v.key).join(', ')}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

/** A page as a visitor in an audience would see it: each personalized slot resolved by @attune/render. */
function PreviewAs() {
  const audiences = useLoad<{ audiences: Audience[] }>('/engine/audiences');
  const [uid, setUid] = useState('api::landing-page.landing-page');
  const [documentId, setDocumentId] = useState('');
  const [audience, setAudience] = useState('');
  const preview = useLoad<{ slots: Record<string, { reason: string; variant: { label?: string; content?: Record<string, unknown> } | null }> }>(
    documentId ? `/preview/${encodeURIComponent(uid)}/${encodeURIComponent(documentId)}?audience=${encodeURIComponent(audience)}` : null,
  );
  return (
    <Flex direction="column" alignItems="stretch" gap={4}>
      <Flex gap={2} alignItems="flex-end">
        <Field.Root name="preview-uid">
          <Field.Label>Content type</Field.Label>
          <TextInput value={uid} onChange={(e: { target: { value: string } }) => setUid(e.target.value)} />
        </Field.Root>
        <Field.Root name="preview-document">
          <Field.Label>Document id</Field.Label>
          <TextInput value={documentId} onChange={(e: { target: { value: string } }) => setDocumentId(e.target.value)} />
        </Field.Root>
        <Field.Root name="preview-audience">
          <Field.Label>As audience</Field.Label>
          <SingleSelect placeholder="Anonymous visitor" value={audience} onChange={(v: string | number) => setAudience(String(v))}>
            <SingleSelectOption value="">Anonymous visitor</SingleSelectOption>
            {(audiences.data?.audiences ?? []).map((a) => (
              <SingleSelectOption key={a.id} value={a.id}>
                {a.name}
              </SingleSelectOption>
            ))}
          </SingleSelect>
        </Field.Root>
      </Flex>
      {preview.error && <Typography textColor="danger600">{preview.error}</Typography>}
      {Object.entries(preview.data?.slots ?? {}).map(([slot, r]) => (
        <Box key={slot} padding={4} background="neutral100" hasRadius data-testid={`preview-${slot}`}>
          <Typography variant="sigma">
            {slot}: {r.variant?.label ?? 'no variant'} ({r.reason})
          </Typography>
          <pre>{JSON.stringify(r.variant?.content ?? null, null, 2)}</pre>
        </Box>
      ))}
    </Flex>
  );
}

export default function App() {
  return (
    <Page.Main>
      <Page.Title>Attune</Page.Title>
      <Layouts.Header title="Attune" subtitle="Audiences, experiences and experiment results from the engine" />
      <Layouts.Content>
        <Tabs.Root defaultValue="audiences">
          <Tabs.List aria-label="Attune pages">
            <Tabs.Trigger value="audiences">Audiences</Tabs.Trigger>
            <Tabs.Trigger value="experiences">Experiences</Tabs.Trigger>
            <Tabs.Trigger value="results">Experiment results</Tabs.Trigger>
            <Tabs.Trigger value="preview">Preview as</Tabs.Trigger>
          </Tabs.List>
          <Box paddingTop={6}>
            <Tabs.Content value="audiences">
              <Audiences />
            </Tabs.Content>
            <Tabs.Content value="experiences">
              <Experiences />
            </Tabs.Content>
            <Tabs.Content value="results">
              <ExperimentResults />
            </Tabs.Content>
            <Tabs.Content value="preview">
              <PreviewAs />
            </Tabs.Content>
          </Box>
        </Tabs.Root>
      </Layouts.Content>
    </Page.Main>
  );
}
