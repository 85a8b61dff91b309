export { freePort, resolveTemporalCli, startTemporalDevServer } from './dev-server.ts';
export type { DevServer, DevServerOptions } from './dev-server.ts';
export { connectTemporal } from './connect.ts';
export type { TemporalTarget } from './connect.ts';
export { createTemporalJobOrchestrator } from './temporal-orchestrator.ts';
export type { TemporalJobOrchestrator, TemporalJobOrchestratorOptions } from './temporal-orchestrator.ts';
export { createTemporalDeploymentOrchestrator } from './deployment-orchestrator.ts';
