/** The plugin's RBAC actions; admin roles get them in Settings → Roles → Plugins → Attune. */
export const ACTIONS = {
  settingsRead: 'plugin::attune.settings.read',
  settingsUpdate: 'plugin::attune.settings.update',
  exportsRead: 'plugin::attune.exports.read',
  exportsRun: 'plugin::attune.exports.run',
  marketingRead: 'plugin::attune.marketing.read',
  audiencesUpdate: 'plugin::attune.audiences.update',
} as const;

export const ACTION_DEFINITIONS = [
  { uid: 'settings.read', displayName: 'Read settings', subCategory: 'settings' },
  { uid: 'settings.update', displayName: 'Edit settings and field rules', subCategory: 'settings' },
  { uid: 'exports.read', displayName: 'See export runs', subCategory: 'exports' },
  { uid: 'exports.run', displayName: 'Run exports now', subCategory: 'exports' },
  { uid: 'marketing.read', displayName: 'See audiences, experiences and results', subCategory: 'marketing' },
  { uid: 'audiences.update', displayName: 'Create audiences', subCategory: 'marketing' },
].map((a) => ({ ...a, section: 'plugins', pluginName: 'attune' }));
