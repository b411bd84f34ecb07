export const PLUGIN_ID = 'attune';
