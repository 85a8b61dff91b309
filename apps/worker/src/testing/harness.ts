import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobEventRow, JobStatus } from '@llmops/db';
import {
  connectTemporal,
  createTemporalJobOrchestrator,
  resolveTemporalCli,
  startTemporalDevServer,
  type DevServer,
  type TemporalJobOrchestrator,
} from '@llmops/orchestration';
import { admissionWorkflowId, ADMISSION_QUERIES, type AdmissionQueueView } from '@llmops/spec';
import { createTestDb, seedProject, type TestDb } from '@llmops/testing';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Executor } from '@llmops/core';
import { bundleWorkflows, startWorker, type RunningWorker, type WorkerDeps } from '../worker.ts';
import { FakeExecutor, FakeProcessTable, type FakeAttemptScript } from './fake-executor.ts';
import { seedTrainingJob, type SeedJobOptions } from './fixtures.ts';

/** A real Temporal dev server and the workflow bundle, shared by the tests of one file. */
export interface TemporalHarness {
  server: DevServer;
  bundle: WorkflowBundle;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export async function startTemporalHarness(): Promise<TemporalHarness> {
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Already installed by an earlier test file in this process.
    }
  }
  // The Temporal CLI of the test environment the runtime's tests also use (LLMOPS_TEMPORAL_CLI wins).
  const home =
    process.env.LLMOPS_TEST_HOME ?? fileURLToPath(new URL('../../../../.llmops-test', import.meta.url));
  const cli = await resolveTemporalCli({ home, dev: true });
  const [server, bundle] = await Promise.all([
    startTemporalDevServer({ cli, headless: true }),
    bundleWorkflows(),
  ]);
  return { server, bundle, stop: () => server.stop() };
}

/** Short timings so that retries, progress and lost workers show within a test's time. */
export const FAST_TIMING = {
  runHeartbeatTimeoutMs: 3_000,
  progressIntervalMs: 0,
  cancelGraceMs: 10_000,
};
export const FAST_RETRY = {
  maxAttempts: 3,
  initialBackoffMs: 200,
  backoffCoefficient: 2,
  maxBackoffMs: 1_000,
};

/**
 * One isolated scenario: its own task queue (hence its own admission queue), database, directories,
 * client and orchestrator on the shared server.
 */
export interface Scenario {
  db: TestDb;
  projectId: string;
  taskQueue: string;
  runsDir: string;
  artifactsDir: string;
  client: Client;
  orchestrator: TemporalJobOrchestrator;
  startWorker(executor: Executor, overrides?: Partial<WorkerDeps>): Promise<RunningWorker>;
  seedJob(opts?: Partial<SeedJobOptions>): ReturnType<typeof seedTrainingJob>;
  statusOf(jobId: string): Promise<JobStatus>;
  waitForStatus(jobId: string, status: JobStatus, timeoutMs?: number): Promise<void>;
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** `from→to` of every status change of the job, in order. */
  transitions(jobId: string): Promise<string[]>;
  events(jobId: string, type?: string): Promise<JobEventRow[]>;
  queue(): Promise<AdmissionQueueView>;
  close(): Promise<void>;
}

export async function createScenario(
  harness: TemporalHarness,
  admission: { maxConcurrentRuns: number; maxRunsPerProject?: number | null } = { maxConcurrentRuns: 4 },
): Promise<Scenario> {
  const db = await createTestDb();
  const { project } = await seedProject(db);
  const root = await mkdtemp(join(tmpdir(), 'llmops-worker-'));
  const runsDir = join(root, 'runs');
  const artifactsDir = join(root, 'artifacts');
  const taskQueue = `test-${randomUUID()}`;
  const temporal = await connectTemporal({ address: harness.server.address });
  const orchestrator = createTemporalJobOrchestrator({
    client: temporal.client,
    db,
    taskQueue,
    attemptRetry: FAST_RETRY,
    timing: FAST_TIMING,
  });
  const workers: RunningWorker[] = [];

  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const statusOf = async (jobId: string) => (await db.repos.jobs.listAll({ jobId }))[0]!.status;

  return {
    db,
    projectId: project.id,
    taskQueue,
    runsDir,
    artifactsDir,
    client: temporal.client,
    orchestrator,
    async startWorker(executor, overrides = {}) {
      const worker = await startWorker({
        temporal: { address: harness.server.address },
        db,
        executor,
        runsDir,
        artifactsDir,
        maxConcurrentRuns: admission.maxConcurrentRuns,
        maxRunsPerProject: admission.maxRunsPerProject ?? null,
        taskQueue,
        workflowBundle: harness.bundle,
        checkpointEveryNSteps: 5,
        ...overrides,
      });
      workers.push(worker);
      return worker;
    },
    seedJob: (opts = {}) => seedTrainingJob(db, { projectId: project.id, artifactsDir, ...opts }),
    statusOf,
    waitFor,
    async waitForStatus(jobId, status, timeoutMs = 30_000) {
      let last: JobStatus | null = null;
      await waitFor(
        `job ${jobId} to be ${status}`,
        async () => (last = await statusOf(jobId)) === status,
        timeoutMs,
      ).catch((error: Error) => {
        throw new Error(`${error.message} (it is ${last})`);
      });
    },
    async transitions(jobId) {
      const events = await db.repos.jobs.listEvents(jobId);
      return events.filter((e) => e.type === 'status_changed').map((e) => `${e.fromStatus}→${e.toStatus}`);
    },
    async events(jobId, type) {
      const events = await db.repos.jobs.listEvents(jobId);
      return type ? events.filter((e) => e.type === type) : events;
    },
    queue: () =>
      temporal.client.workflow
        .getHandle(admissionWorkflowId(taskQueue))
        .query<AdmissionQueueView>(ADMISSION_QUERIES.queue),
    async close() {
      for (const w of workers) await w.shutdown().catch(() => {});
      await temporal.close();
      await db.cleanup();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * Hooks of a test file on the shared dev server: the harness once per file, every scenario closed after
 * its test.
 */
export function temporalSuite() {
  let harness: TemporalHarness | undefined;
  const open: Scenario[] = [];
  beforeAll(async () => {
    harness = await startTemporalHarness();
  }, 600_000);
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  afterAll(async () => {
    await harness?.stop();
  });
  const suite = {
    get harness(): TemporalHarness {
      if (!harness) throw new Error('the Temporal harness is not started');
      return harness;
    },
    async scenario(admission?: Parameters<typeof createScenario>[1]): Promise<Scenario> {
      const s = await createScenario(suite.harness, admission);
      open.push(s);
      return s;
    },
    /** A scenario with one worker on a FakeExecutor; `script` decides how each attempt behaves. */
    async fake(
      script: (jobId: string, attempt: number) => FakeAttemptScript,
      admission?: Parameters<typeof createScenario>[1],
    ) {
      const s = await suite.scenario(admission);
      const table = new FakeProcessTable();
      const executor = new FakeExecutor(table, (req) => script(req.jobId, req.attempt));
      const worker = await s.startWorker(executor);
      return { s, table, executor, worker };
    },
  };
  return suite;
}

const HISTORIES_DIR = fileURLToPath(new URL('../workflows/__histories__/', import.meta.url));

/**
 * Replays the workflow's history on the current code at once (a non-deterministic change fails here),
 * and with LLMOPS_RECORD_HISTORIES=1 stores it under workflows/__histories__ for the replay test, with
 * machine-specific paths and identities scrubbed.
 */
export async function checkAndRecordHistory(
  harness: TemporalHarness,
  scenario: Scenario,
  workflowId: string,
  name: string,
): Promise<void> {
  const history = await scenario.client.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: harness.bundle }, history, workflowId);
  if (process.env.LLMOPS_RECORD_HISTORIES !== '1') return;
  const root = dirname(scenario.runsDir);
  const scrubbed = scrub(historyToObject(history), (text) =>
    text.split(root).join('/srv/llmops').split(tmpdir()).join('/tmp').split(hostname()).join('host'),
  );
  await mkdir(HISTORIES_DIR, { recursive: true });
  const file = join(HISTORIES_DIR, `${name}.json`);
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(JSON.stringify(scrubbed), { ...options, parser: 'json' }));
}

const History = temporal.api.history.v1.History;

/** Plain JSON of a history (int64 as strings, bytes as base64); historyFromObject reads it back. */
export function historyToObject(history: temporal.api.history.v1.IHistory): unknown {
  return History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
}

export function historyFromObject(json: unknown): temporal.api.history.v1.History {
  return History.fromObject(json as Record<string, unknown>);
}

function scrub(value: unknown, fix: (text: string) => string, key = ''): unknown {
  if (typeof value === 'string') return key === 'identity' ? 'worker@host' : fix(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, fix));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = scrub(v, fix, k);
  const encoding = (obj.metadata as Record<string, unknown> | undefined)?.encoding;
  if (typeof encoding === 'string' && typeof obj.data === 'string') {
    const decoded = Buffer.from(obj.data, 'base64').toString('utf8');
    out.data = Buffer.from(fix(decoded), 'utf8').toString('base64');
  }
  return out;
}
