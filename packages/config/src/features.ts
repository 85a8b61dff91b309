import { join } from 'node:path';
import type { PlatformEnv } from './env.ts';

export interface IntegrationFlag<System extends string> {
  /** The integration is on: its generic flag is true and the selected tool may be used. */
  readonly enabled: boolean;
  /** The system new work goes to (quickstart.md §3.1 `*_SYSTEM` / `*_DEFAULT`). */
  readonly system: System;
}

export interface FeatureFlags {
  readonly experimentTracking: IntegrationFlag<PlatformEnv['EXPERIMENT_TRACKING_SYSTEM']> & {
    readonly trackingUri: string;
  };
  readonly servingFramework: IntegrationFlag<PlatformEnv['SERVING_FRAMEWORK_DEFAULT']> & {
    readonly kserve: { readonly enabled: boolean; readonly namespace: string };
  };
  readonly workflowOrchestration: IntegrationFlag<PlatformEnv['WORKFLOW_ORCHESTRATION_SYSTEM']> & {
    readonly argoWorkflows: { readonly enabled: boolean; readonly namespace: string };
  };
  readonly modelRegistry: IntegrationFlag<PlatformEnv['MODEL_REGISTRY_DEFAULT']> & {
    readonly huggingfaceHub: { readonly enabled: boolean; readonly tokenConfigured: boolean };
  };
  readonly dataVersioning: IntegrationFlag<PlatformEnv['DATA_VERSIONING_SYSTEM']>;
}

/**
 * The integration switches as one structure. It carries no secret (only whether a token is set), so it
 * can be shown on the integrations page and in health responses as is.
 */
export function featureFlags(env: PlatformEnv): FeatureFlags {
  return {
    experimentTracking: {
      enabled: env.EXPERIMENT_TRACKING_ENABLED && env.MLFLOW_ENABLED,
      system: env.EXPERIMENT_TRACKING_SYSTEM,
      trackingUri: env.MLFLOW_TRACKING_URI,
    },
    servingFramework: {
      enabled:
        env.SERVING_FRAMEWORK_ENABLED && (env.SERVING_FRAMEWORK_DEFAULT !== 'kserve' || env.USE_KSERVE),
      system: env.SERVING_FRAMEWORK_DEFAULT,
      kserve: { enabled: env.USE_KSERVE, namespace: env.KSERVE_NAMESPACE },
    },
    workflowOrchestration: {
      enabled:
        env.WORKFLOW_ORCHESTRATION_ENABLED &&
        (env.WORKFLOW_ORCHESTRATION_SYSTEM !== 'argo_workflows' || env.ARGO_WORKFLOWS_ENABLED),
      system: env.WORKFLOW_ORCHESTRATION_SYSTEM,
      argoWorkflows: { enabled: env.ARGO_WORKFLOWS_ENABLED, namespace: env.ARGO_WORKFLOWS_NAMESPACE },
    },
    modelRegistry: {
      enabled: env.MODEL_REGISTRY_ENABLED && env.HUGGINGFACE_HUB_ENABLED,
      system: env.MODEL_REGISTRY_DEFAULT,
      huggingfaceHub: {
        enabled: env.HUGGINGFACE_HUB_ENABLED,
        tokenConfigured: env.HUGGINGFACE_HUB_TOKEN !== undefined,
      },
    },
    dataVersioning: {
      enabled: env.DATA_VERSIONING_ENABLED && env.DVC_ENABLED,
      system: env.DATA_VERSIONING_SYSTEM,
    },
  };
}

export type DatabaseTarget =
  { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'pglite'; readonly dataDir: string };

/** Where the platform's state lives: the PostgreSQL of DATABASE_URL, else embedded PGlite. */
export function databaseTarget(env: PlatformEnv): DatabaseTarget {
  return env.DATABASE_URL === undefined
    ? { kind: 'pglite', dataDir: join(env.LLMOPS_HOME, 'db') }
    : { kind: 'postgres', url: env.DATABASE_URL };
}
