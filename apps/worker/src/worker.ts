import { fileURLToPath } from 'node:url';
import type { Db } from '@llmops/db';
import { ADMISSION_SIGNALS, TRAINING_TASK_QUEUE, type AdmissionConfig, type RuntimeSpec } from '@llmops/spec';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from './activities/index.ts';
import { signalAdmission } from './activities/admission.ts';
import { cachedWorkflowBundle } from './bundle.ts';
import type { Executor, ServingRuntime } from '@llmops/core';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface WorkerDeps {
  temporal: { address: string; namespace?: string };
  db: Db;
  executor: Executor;
  /** `<runsDir>/<jobId>/checkpoints` holds each job's checkpoints. */
  runsDir: string;
  /** Root of the local artifact store (datasets are read from it, trained models are saved into it). */
  artifactsDir: string;
  /** Runs admitted at once across all projects. */
  maxConcurrentRuns: number;
  /** Runs admitted at once per project; default: no per-project cap beyond maxConcurrentRuns. */
  maxRunsPerProject?: number | null;
  /** Default TRAINING_TASK_QUEUE; each task queue has its own admission queue. */
  taskQueue?: string;
  /** A bundle made once with `bundleWorkflows()`; default: the cached bundle file, or bundle at start. */
  workflowBundle?: WorkflowBundle | { codePath: string };
  /** Where `cachedWorkflowBundle` keeps the bundle file (no workflowBundle given); default: bundle in process. */
  bundleCacheDir?: string;
  /** Steps between checkpoints written by the runtime (default 50). */
  checkpointEveryNSteps?: number;
  /** Last word on every resolved runtime spec, e.g. the runtime's synthetic mode for load tests. */
  adjustSpec?: (spec: RuntimeSpec) => RuntimeSpec;
  /** The serving backend the rollout activities drive; absent: rollouts fail saying the worker has none. */
  serving?: ServingRuntime;
  /** Called when the worker stops on its own (e.g. Temporal unreachable for too long). */
  onFatalError?: (error: unknown) => void;
}

export interface RunningWorker {
  taskQueue: string;
  /** Stops polling, detaches from running attempts (their processes keep running) and closes connections. */
  shutdown(): Promise<void>;
}

/** Bundles the workflow code (webpack); reuse the result for several workers in one process. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

/**
 * The Temporal worker of the training workflows, runnable inside another process (the embedded
 * platform) or on its own. Tells the admission workflow its capacity on start.
 */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const namespace = deps.temporal.namespace ?? 'default';
  const taskQueue = deps.taskQueue ?? TRAINING_TASK_QUEUE;
  const admission: AdmissionConfig = {
    maxConcurrentRuns: deps.maxConcurrentRuns,
    maxRunsPerProject: deps.maxRunsPerProject ?? null,
  };
  const workflowBundle =
    deps.workflowBundle ??
    (deps.bundleCacheDir ? await cachedWorkflowBundle(deps.bundleCacheDir) : await bundleWorkflows());
  const clientConnection = await Connection.connect({ address: deps.temporal.address });
  let nativeConnection: NativeConnection | undefined;
  try {
    const client = new Client({ connection: clientConnection, namespace });
    nativeConnection = await NativeConnection.connect({ address: deps.temporal.address });
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace,
      taskQueue,
      workflowBundle,
      activities: createActivities({
        db: deps.db,
        executor: deps.executor,
        client,
        runsDir: deps.runsDir,
        artifactsDir: deps.artifactsDir,
        checkpointEveryNSteps: deps.checkpointEveryNSteps ?? 50,
        adjustSpec: deps.adjustSpec,
        serving: deps.serving,
        admission,
      }),
      // Every admitted run holds one long activity slot while it is supervised.
      maxConcurrentActivityTaskExecutions: Math.max(100, deps.maxConcurrentRuns * 2 + 20),
    });
    await signalAdmission(client, taskQueue, admission, ADMISSION_SIGNALS.configure, admission);
    const running = worker.run();
    running.catch((error: unknown) =>
      deps.onFatalError ? deps.onFatalError(error) : console.error('training worker stopped', error),
    );
    const connection = nativeConnection;
    return {
      taskQueue,
      async shutdown() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        try {
          await running.catch(() => {});
        } finally {
          await connection.close();
          await clientConnection.close();
        }
      },
    };
  } catch (error) {
    await nativeConnection?.close();
    await clientConnection.close();
    throw error;
  }
}
