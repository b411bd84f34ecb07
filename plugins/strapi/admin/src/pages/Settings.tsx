import { Box, Flex, Loader, Tabs, Typography } from '@strapi/design-system';
import { Layouts, Page } from '@strapi/strapi/admin';
import { type SettingsView, useLoad } from '../api.ts';
import { ConnectionForm } from '../components/ConnectionForm.tsx';
import { ExportSection } from '../components/ExportSection.tsx';
import { FieldRulesEditor } from '../components/FieldRulesEditor.tsx';

const SECTIONS = [
  { id: 'content', label: 'Content' },
  { id: 'products', label: 'Products' },
  { id: 'users', label: 'Users' },
] as const;

export default function SettingsPage() {
  const settings = useLoad<SettingsView>('/settings');
  return (
    <Page.Main>
      <Page.Title>Attune settings</Page.Title>
      <Layouts.Header title="Attune" subtitle="Engine connection, scheduled exports and exported fields" />
      <Layouts.Content>
        {settings.loading && !settings.data && <Loader>Loading settings</Loader>}
        {settings.error && <Typography textColor="danger600">{settings.error}</Typography>}
        {settings.data && (
          <Flex direction="column" alignItems="stretch" gap={6}>
            <ConnectionForm settings={settings.data} onSaved={settings.setData} />
            <Box background="neutral0" padding={6} shadow="tableShadow" hasRadius>
              <Typography variant="delta" tag="h2">
                Scheduled exports
              </Typography>
              <Tabs.Root defaultValue="content">
                <Tabs.List aria-label="Export sections">
                  {SECTIONS.map((s) => (
                    <Tabs.Trigger key={s.id} value={s.id}>
                      {s.label}
                    </Tabs.Trigger>
                  ))}
                </Tabs.List>
                {SECTIONS.map((s) => (
                  <Tabs.Content key={s.id} value={s.id}>
                    <Box paddingTop={4}>
                      <ExportSection section={s.id} settings={settings.data as SettingsView} onSaved={settings.setData} />
                    </Box>
                  </Tabs.Content>
                ))}
              </Tabs.Root>
            </Box>
            <Box background="neutral0" padding={6} shadow="tableShadow" hasRadius>
              <Typography variant="delta" tag="h2">
                Exported fields
              </Typography>
              <FieldRulesEditor settings={settings.data} onSaved={settings.setData} />
            </Box>
          </Flex>
        )}
      </Layouts.Content>
    </Page.Main>
  );
}
