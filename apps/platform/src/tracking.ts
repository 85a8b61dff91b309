import { join } from 'node:path';
import { featureFlags, type PlatformEnv } from '@llmops/config';
import { createTrackingDispatcher, createTrackingService, type TrackingService } from '@llmops/core';
import type { Db } from '@llmops/db';
import { createMlflowClient, type MlflowApi } from '@llmops/integrations-mlflow';
import { runsDirOf } from './execution.ts';

export interface PlatformTracking {
  /** The MLflow client; null when experiment tracking is disabled. */
  mlflow: MlflowApi | null;
  service: TrackingService;
  describe: string;
  close(): Promise<void>;
}

/** How often outbox rows of ended jobs are dropped while tracking is disabled. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Experiment tracking in the platform process. Enabled: the outbox dispatcher delivers to MLflow at
 * MLFLOW_TRACKING_URI (every ~500 ms). Disabled: nothing is delivered; outbox rows of ended jobs are
 * dropped and those jobs marked `disabled` (`llmops tracking backfill` rebuilds them from job events).
 */
export function startTracking(opts: {
  env: PlatformEnv;
  db: Db;
  print: (line: string) => void;
}): PlatformTracking {
  const { env, db, print } = opts;
  const flags = featureFlags(env).experimentTracking;
  if (!flags.enabled) {
    const prune = () =>
      void db.repos.tracking.pruneEnded().catch((e: Error) => print(`tracking: prune failed: ${e.message}`));
    prune();
    const timer = setInterval(prune, PRUNE_INTERVAL_MS);
    timer.unref();
    return {
      mlflow: null,
      service: createTrackingService({ db, mlflow: null }),
      describe: 'off',
      async close() {
        clearInterval(timer);
      },
    };
  }
  const mlflow = createMlflowClient({ baseUrl: flags.trackingUri });
  const dispatcher = createTrackingDispatcher({
    db,
    mlflow,
    artifactsDir: join(env.LLMOPS_HOME, 'artifacts'),
    runsDir: runsDirOf(env),
    log: env.LOG_LEVEL === 'silent' ? undefined : print,
  });
  dispatcher.start();
  return {
    mlflow,
    service: createTrackingService({ db, mlflow, dispatcher: dispatcher.state }),
    describe: `MLflow at ${mlflow.baseUrl}`,
    close: () => dispatcher.stop(),
  };
}
