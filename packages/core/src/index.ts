export * from './errors.ts';
export * from './services.ts';
export * from './platform-context.ts';
export * from './identity/actor.ts';
export * from './identity/tokens.ts';
export * from './identity/identity.service.ts';
export * from './catalog/catalog.service.ts';
export * from './catalog/dataset-file.ts';
export * from './training/training.service.ts';
export * from './serving/serving.service.ts';
export * from './serving/local/index.ts';
export * from './serving/kubernetes/index.ts';
export * from './compliance/compliance.service.ts';
export * from './compliance/fix-hints.ts';
export * from './audit/audit.service.ts';
export * from './storage/artifact-store.ts';
export * from './platform/index.ts';
export * from './training/orchestrator.ts';
export * from './training/job-control.service.ts';
export * from './execution/index.ts';
export * from './registry/index.ts';
export * from './experiments/index.ts';
export * from './tracking/index.ts';
export type {
  ReplicaState,
  ReplicaStatus,
  RevisionDeployment,
  RevisionState,
  RevisionStatus,
  ServingDriver,
  TrafficWeights,
} from './serving/backend.ts';
export { callerBucket, pickRevision, type RouteChoice, type RoutingTable } from './serving/routing.ts';
export { createServingTelemetry, type RevisionStats, type ServingTelemetry } from './serving/telemetry.ts';
export { judgeHealth, type HealthVerdict } from './serving/health.ts';
export { createServingRouter, type ServingRouter } from './serving/router.ts';
export type { ServingRuntime } from './serving/runtime.ts';
export type { DeploymentOrchestrator } from './serving/orchestrator.ts';
export {
  createRolloutService,
  ROLLOUT_DEFAULTS,
  rolloutSteps,
  type RolloutOptions,
  type RolloutService,
} from './serving/rollout.service.ts';
export { redeployLiveRevisions, revisionDeploymentOf } from './serving/revision-deployment.ts';
