import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { PlatformConfig, PlatformEnv } from '@llmops/config';
import {
  createLocalServingDriver,
  createServingRouter,
  createServingTelemetry,
  kubernetesServingDriverFromEnv,
  redeployLiveRevisions,
  type ServingBackendConfig,
  type ServingRuntime,
} from '@llmops/core';
import type { Db } from '@llmops/db';
import { ensurePythonEnv } from '@llmops/pyenv';

export interface Serving {
  runtime: ServingRuntime | null;
  describe: string;
  close(): Promise<void>;
}

/**
 * The serving side of this process: the driver of the configured backend, the routing tables and the
 * request telemetry shared by the inference proxy and the rollout activities. The local model server runs
 * where the worker runs (the embedded mode); its revisions that should be serving are started again here,
 * since a platform process takes its model servers down with it.
 */
export async function startServing(opts: {
  env: PlatformEnv;
  db: Db;
  backend: ServingBackendConfig;
  print: (line: string) => void;
  /** GPU types for the KServe and Ray Serve manifests. */
  config?: PlatformConfig;
}): Promise<Serving> {
  const { env, db, backend, print } = opts;
  if (backend.backend !== 'local') return kubernetesServing(opts);
  if (!env.LLMOPS_RUN_WORKER)
    return {
      runtime: null,
      describe: 'off in this process (LLMOPS_RUN_WORKER=false)',
      close: async () => {},
    };
  // Without the workflow engine nothing is deployed or rolled out: no model servers, no Python needed.
  if (!env.TEMPORAL_ADDRESS)
    return {
      runtime: null,
      describe: 'off (no workflow engine: TEMPORAL_ADDRESS is not set)',
      close: async () => {},
    };
  const python = await ensurePythonEnv({ home: env.LLMOPS_HOME, requireTorch: false });
  const driver = createLocalServingDriver({
    stateDir: join(env.LLMOPS_HOME, 'serving'),
    artifactsDir: join(env.LLMOPS_HOME, 'artifacts'),
    python: python.python,
    // torch's threads spin between requests: on every core they would take the one the proxy needs.
    threadsPerReplica: env.SERVING_LOCAL_THREADS || Math.max(1, availableParallelism() - 1),
    log: (line) => print(`serving: ${line}`),
  });
  const runtime: ServingRuntime = {
    driver,
    router: createServingRouter(db),
    telemetry: createServingTelemetry(),
  };
  const redeployed = await redeployLiveRevisions(db, driver, print);
  return {
    runtime,
    describe: `local model servers${redeployed ? ` (${redeployed} revision(s) started again)` : ''}`,
    close: () => driver.close(),
  };
}

/**
 * KServe or Ray Serve: the objects live in the cluster, so nothing is started again here. Without a
 * configured Kubernetes API the platform still starts (manifests are shown), and says what to set.
 */
function kubernetesServing(opts: Parameters<typeof startServing>[0]): Serving {
  const { env, db, backend, print } = opts;
  let driver;
  try {
    driver = kubernetesServingDriverFromEnv(env, backend, {
      ...(opts.config ? { config: opts.config } : {}),
      onWatchError: (e) => print(`serving: ${e.message}`),
    });
  } catch (e) {
    return {
      runtime: null,
      describe: `${backend.backend} off: ${(e as Error).message} (manifests are shown)`,
      close: async () => {},
    };
  }
  const runtime: ServingRuntime = {
    driver,
    router: createServingRouter(db),
    telemetry: createServingTelemetry(),
  };
  return {
    runtime,
    describe: `${backend.backend} in namespace ${backend.namespace}`,
    close: () => driver.close(),
  };
}
