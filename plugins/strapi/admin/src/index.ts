import { extendContentTypeBuilder } from './builder.ts';
import { PLUGIN_ID } from './pluginId.ts';
import { PluginIcon } from './components/PluginIcon.tsx';

const PERMISSIONS = {
  settings: [{ action: 'plugin::attune.settings.read', subject: null }],
  marketing: [{ action: 'plugin::attune.marketing.read', subject: null }],
};

// Strapi's admin API, as far as this plugin uses it.
interface AdminApp {
  registerPlugin(plugin: { id: string; name: string }): void;
  addMenuLink(link: unknown): void;
  createSettingSection(section: unknown, links: unknown[]): void;
  customFields: { register(field: unknown): void };
  getPlugin(id: string): { apis: Record<string, unknown> } | undefined;
}

export default {
  register(app: AdminApp) {
    app.addMenuLink({
      to: `plugins/${PLUGIN_ID}`,
      icon: PluginIcon,
      intlLabel: { id: `${PLUGIN_ID}.plugin.name`, defaultMessage: 'Attune' },
      Component: () => import('./pages/App.tsx'),
      permissions: PERMISSIONS.marketing,
    });
    app.createSettingSection({ id: PLUGIN_ID, intlLabel: { id: `${PLUGIN_ID}.settings.section`, defaultMessage: 'Attune' } }, [
      {
        intlLabel: { id: `${PLUGIN_ID}.settings.link`, defaultMessage: 'Connection and exports' },
        id: 'attune-settings',
        to: PLUGIN_ID,
        Component: () => import('./pages/Settings.tsx'),
        permissions: PERMISSIONS.settings,
      },
    ]);
    app.customFields.register({
      name: 'personalized-slot',
      pluginId: PLUGIN_ID,
      type: 'json',
      intlLabel: { id: `${PLUGIN_ID}.personalized-slot.label`, defaultMessage: 'Personalized slot' },
      intlDescription: { id: `${PLUGIN_ID}.personalized-slot.description`, defaultMessage: 'Binds a slot variant to an Attune audience or experiment arm' },
      icon: PluginIcon,
      components: { Input: () => import('./components/SlotBindingInput.tsx') },
    });
    app.registerPlugin({ id: PLUGIN_ID, name: 'Attune' });
  },
  bootstrap(app: AdminApp) {
    const forms = app.getPlugin('content-type-builder')?.apis.forms as Parameters<typeof extendContentTypeBuilder>[0] | undefined;
    if (forms) extendContentTypeBuilder(forms);
  },
  async registerTrads({ locales }: { locales: string[] }) {
    return locales.map((locale) => ({ data: {}, locale }));
  },
};
