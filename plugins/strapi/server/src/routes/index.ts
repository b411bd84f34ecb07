import { ACTIONS } from '../permissions.ts';

const can = (...actions: string[]) => ({ policies: [{ name: 'admin::hasPermissions', config: { actions } }] });
const signedIn = { policies: ['admin::isAuthenticatedAdmin'] };

/** Admin API routes, served under /attune; each checks the plugin's RBAC actions. */
const admin = {
  type: 'admin',
  routes: [
    { method: 'GET', path: '/settings', handler: 'settings.get', config: can(ACTIONS.settingsRead) },
    { method: 'PUT', path: '/settings', handler: 'settings.update', config: can(ACTIONS.settingsUpdate) },
    { method: 'POST', path: '/settings/test', handler: 'settings.test', config: can(ACTIONS.settingsRead) },
    { method: 'GET', path: '/exports/runs', handler: 'exports.history', config: can(ACTIONS.exportsRead) },
    { method: 'GET', path: '/exports/runs/:id', handler: 'exports.get', config: can(ACTIONS.exportsRead) },
    { method: 'POST', path: '/exports/:section/run', handler: 'exports.run', config: can(ACTIONS.exportsRun) },
    { method: 'GET', path: '/engine/audiences', handler: 'marketing.audiences', config: can(ACTIONS.marketingRead) },
    { method: 'POST', path: '/engine/audiences/preview', handler: 'marketing.previewAudience', config: can(ACTIONS.marketingRead) },
    { method: 'POST', path: '/engine/audiences', handler: 'marketing.createAudience', config: can(ACTIONS.audiencesUpdate) },
    { method: 'GET', path: '/engine/experiences', handler: 'marketing.experiences', config: can(ACTIONS.marketingRead) },
    { method: 'GET', path: '/engine/experiments', handler: 'marketing.experiments', config: can(ACTIONS.marketingRead) },
    { method: 'GET', path: '/engine/experiments/:id/results', handler: 'marketing.results', config: can(ACTIONS.marketingRead) },
    // Editors binding slot variants need the live lists without the marketing pages.
    { method: 'GET', path: '/bindings', handler: 'marketing.bindings', config: signedIn },
    { method: 'GET', path: '/preview/:uid/:documentId', handler: 'marketing.preview', config: signedIn },
  ],
};

/**
 * Content API routes, served under /api/attune. The erasure endpoint is Attune's to call: no
 * Strapi user, the Standard Webhooks signature with the activation secret authenticates it.
 */
const contentApi = {
  type: 'content-api',
  routes: [{ method: 'POST', path: '/erasure', handler: 'erasure.receive', config: { auth: false, policies: [] } }],
};

export default { admin, 'content-api': contentApi };
