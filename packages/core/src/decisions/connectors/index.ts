export * from './runtime.ts';
export * from './schema.ts';
export { renderTemplate, selectPath, TEMPLATE_TOKEN, TemplateError, type TemplateTarget, templatePaths } from './template.ts';
