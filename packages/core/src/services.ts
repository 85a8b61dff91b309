import type { Db } from '@llmops/db';
import type { MlflowApi } from '@llmops/integrations-mlflow';
import { createAuditService } from './audit/audit.service.ts';
import { createCatalogService } from './catalog/catalog.service.ts';
import { createComplianceService } from './compliance/compliance.service.ts';
import { createExperimentsService } from './experiments/experiments.service.ts';
import { createIdentityService } from './identity/identity.service.ts';
import type { PlatformContext } from './platform-context.ts';
import type { PromotionGate } from './registry/gates.ts';
import { createRegistryService } from './registry/registry.service.ts';
import { createServingService } from './serving/serving.service.ts';
import type { DeploymentOrchestrator } from './serving/orchestrator.ts';
import { createRolloutService } from './serving/rollout.service.ts';
import type { ServingRuntime } from './serving/runtime.ts';
import type { ServingBackendConfig } from './serving/deployment-manifest.ts';
import type { ArtifactStore } from './storage/artifact-store.ts';
import { createJobControlService, type JobLogLocator } from './training/job-control.service.ts';
import type { JobOrchestrator } from './training/orchestrator.ts';
import { createTrainingService } from './training/training.service.ts';

export interface ServiceDeps {
  db: Db;
  platform: PlatformContext;
  store: ArtifactStore;
  /** The durable execution engine; null while it is not configured or not yet connected. */
  orchestrator?: () => JobOrchestrator | null;
  /** Where attempt logs live (the executor's run directories). */
  logs?: JobLogLocator | null;
  /** The MLflow tracking server; absent: registry and experiments answer 503 naming MLflow. */
  mlflow?: MlflowApi | null;
  /** Checks a promotion must pass before a stage alias moves (evaluation, approvals); none by default. */
  promotionGates?: readonly PromotionGate[];
  /** Which serving backend endpoints are converted for (local, KServe, Ray); default: from process.env. */
  servingBackend?: ServingBackendConfig;
  /** Rollouts' durable workflows; null while the workflow engine is not connected. */
  deployments?: () => DeploymentOrchestrator | null;
  /** The serving driver, routing tables and telemetry of this process; null: no inference here. */
  servingRuntime?: () => ServingRuntime | null;
}

/** Builds every domain service once; the HTTP layer and the CLI both go through these. */
export function createServices(deps: ServiceDeps) {
  const orchestrator = deps.orchestrator ?? (() => null);
  const training = createTrainingService({ ...deps, orchestrator });
  const serving = createServingService(deps);
  return {
    identity: createIdentityService(deps.db),
    catalog: createCatalogService({
      db: deps.db,
      store: deps.store,
      families: () => Object.keys(deps.platform.config.model_families),
    }),
    training,
    serving,
    compliance: createComplianceService({ db: deps.db, training, serving }),
    audit: createAuditService(deps.db),
    jobControl: createJobControlService({ db: deps.db, orchestrator, logs: deps.logs ?? null }),
    registry: createRegistryService({
      db: deps.db,
      mlflow: deps.mlflow ?? null,
      gates: deps.promotionGates ?? [],
    }),
    experiments: createExperimentsService({ db: deps.db, mlflow: deps.mlflow ?? null }),
    rollouts: createRolloutService({
      db: deps.db,
      orchestrator: deps.deployments ?? (() => null),
      serving: deps.servingRuntime ?? (() => null),
    }),
    /** The serving driver, routing tables and telemetry of this process (the inference proxy uses them). */
    servingRuntime: deps.servingRuntime ?? (() => null),
  };
}

export type Services = ReturnType<typeof createServices>;
