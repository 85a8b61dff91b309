export { buildApp } from './app.ts';
export type { App, AppOptions } from './app.ts';
export { API_PREFIX } from './modules/types.ts';
export type { IntegrationsInfo } from './modules/integrations/integrations.routes.ts';
