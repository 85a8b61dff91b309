import { join } from 'node:path';
import type { PlatformEnv } from '@llmops/config';
import {
  createLocalProcessExecutor,
  attemptsUnder,
  type DeploymentOrchestrator,
  type JobLogLocator,
  type JobOrchestrator,
  type ServingRuntime,
} from '@llmops/core';
import type { Db } from '@llmops/db';
import {
  connectTemporal,
  createTemporalDeploymentOrchestrator,
  createTemporalJobOrchestrator,
} from '@llmops/orchestration';
import { ensurePythonEnv } from '@llmops/pyenv';
import { startWorker, type RunningWorker, type WorkerDeps } from '@llmops/worker';

export interface Execution {
  orchestrator: JobOrchestrator;
  /** Rollouts of serving endpoints (the deployment workflow). */
  deployments: DeploymentOrchestrator;
  logs: JobLogLocator;
  describe: string;
  close(): Promise<void>;
}

/** Where runs live: `<LLMOPS_HOME>/runs/<jobId>/attempt-<n>/`. */
export function runsDirOf(env: PlatformEnv): string {
  return join(env.LLMOPS_HOME, 'runs');
}

export function logLocator(env: PlatformEnv): JobLogLocator {
  const runsDir = runsDirOf(env);
  return {
    attempts: attemptsUnder(runsDir),
    logPath: (jobId, attempt) => join(runsDir, jobId, `attempt-${attempt}`, 'run.log'),
  };
}

/**
 * LLMOPS_SYNTHETIC_RUNS (load tests and crash tests only): every job runs the runtime's synthetic mode,
 * `<steps>x<step_ms>[@<checkpoint every n steps>]`, so hundreds of runs need no ML library.
 */
export function syntheticRuns(setting: string | undefined): WorkerDeps['adjustSpec'] {
  const m = setting ? /^(\d+)x(\d+)(?:@(\d+))?$/.exec(setting) : null;
  if (!m) return undefined;
  const [steps, stepMs, every] = [Number(m[1]), Number(m[2]), m[3] ? Number(m[3]) : null];
  return (spec) => ({
    ...spec,
    mode: 'synthetic',
    synthetic: { steps, step_ms: stepMs },
    checkpoint: every ? { ...spec.checkpoint, every_n_steps: every } : spec.checkpoint,
  });
}

/**
 * Connects the platform to Temporal and, in the embedded mode, runs the worker in this process with the
 * local executor. Jobs still QUEUED (submitted while the engine was away) are started on connect; the
 * start is idempotent (workflow id = job id), so a restart never runs a job twice.
 */
export async function startExecution(opts: {
  env: PlatformEnv;
  db: Db;
  print: (line: string) => void;
  /** The serving driver and routing of this process; the worker's rollout activities drive it. */
  serving?: ServingRuntime | null;
}): Promise<Execution | null> {
  const { env, db, print } = opts;
  if (!env.TEMPORAL_ADDRESS) {
    print(
      'execution: off (TEMPORAL_ADDRESS is not set; `llmops up` starts a local Temporal server and sets it)',
    );
    return null;
  }
  const temporal = { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE };
  const { client, close: closeClient } = await connectTemporal(temporal);
  let worker: RunningWorker | null = null;
  try {
    if (env.LLMOPS_RUN_WORKER) {
      const python = await ensurePythonEnv({ home: env.LLMOPS_HOME, requireTorch: false });
      if (!python.torchVersion)
        print(
          'execution: torch is not available to the runtime; training modes will fail (install Debian python3-torch)',
        );
      const executor = createLocalProcessExecutor({
        runsDir: runsDirOf(env),
        command: python.runtimeCommand,
      });
      worker = await startWorker({
        temporal,
        db,
        executor,
        runsDir: runsDirOf(env),
        artifactsDir: join(env.LLMOPS_HOME, 'artifacts'),
        maxConcurrentRuns: env.LLMOPS_MAX_CONCURRENT_RUNS,
        bundleCacheDir: join(env.LLMOPS_HOME, 'cache'),
        adjustSpec: syntheticRuns(env.LLMOPS_SYNTHETIC_RUNS),
        onFatalError: (e, restartInMs) =>
          print(
            `execution: worker stopped: ${(e as Error).message}; starting it again in ${Math.round(restartInMs / 1000)} s`,
          ),
        ...(opts.serving ? { serving: opts.serving } : {}),
      });
    }
    const orchestrator = createTemporalJobOrchestrator({ client, db });
    const queued = await db.repos.jobs.listAll({});
    let started = 0;
    for (const job of queued.filter((j) => j.status === 'QUEUED' && j.compliance.compliant)) {
      await orchestrator.start(job.id).then(
        () => started++,
        (e: Error) => print(`execution: could not start job ${job.id}: ${e.message}`),
      );
    }
    const describe = `Temporal ${env.TEMPORAL_ADDRESS}${worker ? `, worker in-process (${env.LLMOPS_MAX_CONCURRENT_RUNS} concurrent runs${env.LLMOPS_SYNTHETIC_RUNS ? `, synthetic runs ${env.LLMOPS_SYNTHETIC_RUNS}` : ''})` : ''}${started ? `, ${started} queued job(s) started` : ''}`;
    return {
      orchestrator,
      deployments: createTemporalDeploymentOrchestrator({ client }),
      logs: logLocator(env),
      describe,
      async close() {
        await worker?.shutdown();
        await closeClient();
      },
    };
  } catch (e) {
    await worker?.shutdown().catch(() => undefined);
    await closeClient().catch(() => undefined);
    throw e;
  }
}
