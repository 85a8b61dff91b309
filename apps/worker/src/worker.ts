import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
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
  /**
   * Called when the worker stops on its own (e.g. Temporal unreachable for too long, its workflow thread
   * out of memory); a new worker is started after `restartInMs`.
   */
  onFatalError?: (error: unknown, restartInMs: number) => void;
}

export interface RunningWorker {
  taskQueue: string;
  /** Stops polling, detaches from running attempts (their processes keep running) and closes connections. */
  shutdown(): Promise<void>;
}

/** A failed worker is started again after 1 s, doubling up to this; a minute without failure resets it. */
const RESTART_MAX_DELAY_MS = 30_000;
const RESTART_RESET_MS = 60_000;

/**
 * Workflows kept in the workflow thread's memory between their tasks (see the worker options): about
 * 4 MiB each above 150 MiB of the thread's heap limit (the process's `--max-old-space-size`), at least 10;
 * 62 with the platform's default 384 MiB.
 */
export const WORKFLOW_CACHE_SIZE = Math.max(
  10,
  Math.floor((getHeapStatistics().heap_size_limit / 2 ** 20 - 150) / 4),
);

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
    const connection = nativeConnection;
    const create = () =>
      Worker.create({
        connection,
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
        // The workflow thread has the process's heap limit; the SDK sizes its cache from that limit at
        // ~1.7 MiB a workflow, but a cached training workflow takes more: at about a hundred of them (384
        // MiB) the thread ran out of memory and took the worker down. Workflows beyond the cache are
        // replayed from their history when they wake.
        maxCachedWorkflows: WORKFLOW_CACHE_SIZE,
      });
    let current: { worker: Worker; running: Promise<void> } | null = null;
    let stopping = false;
    let failures = 0;
    let retry: NodeJS.Timeout | undefined;
    // A worker that fails (its workflow thread out of memory, Temporal unreachable for too long) is
    // replaced: its attempts were detached, not stopped, and their retried activities re-attach.
    const launch = (worker: Worker) => {
      const startedAt = Date.now();
      const running = worker.run();
      current = { worker, running };
      running.catch((error: unknown) => {
        if (stopping) return;
        if (Date.now() - startedAt > RESTART_RESET_MS) failures = 0;
        const delayMs = Math.min(RESTART_MAX_DELAY_MS, 1000 * 2 ** failures++);
        report(error, delayMs);
        relaunch(delayMs);
      });
    };
    const report = (error: unknown, restartInMs: number) =>
      deps.onFatalError
        ? deps.onFatalError(error, restartInMs)
        : console.error(`training worker stopped; starting it again in ${restartInMs} ms`, error);
    const relaunch = (delayMs: number) => {
      retry = setTimeout(() => {
        if (stopping) return;
        create().then(
          (worker) => (stopping ? undefined : launch(worker)),
          (error: unknown) => {
            const next = Math.min(RESTART_MAX_DELAY_MS, 1000 * 2 ** failures++);
            report(error, next);
            relaunch(next);
          },
        );
      }, delayMs);
    };
    launch(await create());
    await signalAdmission(client, taskQueue, admission, ADMISSION_SIGNALS.configure, admission);
    return {
      taskQueue,
      async shutdown() {
        stopping = true;
        clearTimeout(retry);
        const running = current as { worker: Worker; running: Promise<void> } | null;
        if (running?.worker.getState() === 'RUNNING') running.worker.shutdown();
        try {
          await running?.running.catch(() => {});
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
