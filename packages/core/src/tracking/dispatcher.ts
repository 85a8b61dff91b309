import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, JobRow, OutboxRow } from '@llmops/db';
import { toMlflowParams } from '@llmops/integrations-mlflow';
import type { DatasetInput, KeyValue, MlflowApi, Run, RunInfo } from '@llmops/integrations-mlflow';
import { trainJobSpecSchema } from '@llmops/spec';
import { listAttempts } from '../execution/attempt-files.ts';
import {
  backoffMs,
  eachMetricOf,
  flattenSpecParams,
  isPermanent,
  logBatchParts,
  messageOf,
  runStatusOf,
  splitLogBatch,
  type StoredPoint,
} from './delivery.ts';

/** Run tag holding the platform's job id: the key that makes run creation idempotent. */
export const JOB_ID_TAG = 'llmops.job_id';

export interface TrackingDispatcherOptions {
  db: Db;
  mlflow: MlflowApi;
  /** `<LLMOPS_HOME>/artifacts`: where `s3://bucket/key` catalog URIs live locally. */
  artifactsDir: string;
  /** `<LLMOPS_HOME>/runs`: attempt directories with their logs. */
  runsDir: string;
  /** Poll interval while idle; default 100 ms (new rows leave within it, an idle poll is one indexed query). */
  intervalMs?: number;
  /** Jobs delivered in parallel per pass; default 4. */
  concurrency?: number;
  /** Outbox rows read per job per pass; default 500. */
  rowsPerPass?: number;
  /** Backoff cap; default 30 s. */
  maxBackoffMs?: number;
  /** The job's submission as run params and tags; default `specFields`. */
  specParams?: (spec: Record<string, unknown>) => { params: KeyValue[]; tags: KeyValue[] };
  log?: (line: string) => void;
}

export interface DispatcherState {
  /** False once a delivery failed with a transient error, until one succeeds again. */
  delivering: boolean;
  lastError: string | null;
  lastErrorAt: string | null;
  lastDeliveryAt: string | null;
  delivered: number;
}

export interface TrackingDispatcher {
  start(): void;
  stop(): Promise<void>;
  /** One pass over the due jobs; returns the number of rows delivered or set aside. */
  tick(): Promise<number>;
  state(): DispatcherState;
}

/** An error of our own that a retry cannot fix (the row is set aside). */
class PermanentError extends Error {
  readonly retryable = false;
}

/**
 * The job's TrainJobSpec as run params and tags through the integration's lossless converter (it maps
 * back with `fromMlflowParams`); a stored spec that no longer parses is flattened instead.
 */
export function specFields(spec: Record<string, unknown>): { params: KeyValue[]; tags: KeyValue[] } {
  const parsed = trainJobSpecSchema.safeParse(spec.trainJobSpec);
  if (parsed.success) return toMlflowParams(parsed.data);
  return { params: flattenSpecParams(spec), tags: [] };
}

/** The experiment of a project: `<organisation slug>/<project slug>`. */
export function experimentNameOf(orgSlug: string, projectSlug: string): string {
  return `${orgSlug}/${projectSlug}`;
}

/** Local path of a catalog storage URI (`s3://bucket/key` in the local store, `file://`, or absolute). */
export function localPathOfUri(uri: string, artifactsDir: string): string | null {
  if (uri.startsWith('s3://')) {
    const segments = uri.slice('s3://'.length).split('/');
    if (segments.length < 2 || !segments.every((s) => /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(s))) return null;
    return join(resolve(artifactsDir), ...segments);
  }
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  return isAbsolute(uri) ? uri : null;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const atMs = (v: unknown, fallback: number): number => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isFinite(t) ? t : fallback;
};

function trainJobSpecOf(job: JobRow): Record<string, unknown> {
  const t = job.spec.trainJobSpec;
  return typeof t === 'object' && t !== null ? (t as Record<string, unknown>) : {};
}

export function artifactNameOf(job: JobRow): string | null {
  const output = trainJobSpecOf(job).output;
  return typeof output === 'object' && output !== null
    ? str((output as Record<string, unknown>).artifact_name)
    : null;
}

/**
 * Delivers the tracking outbox to MLflow: per job, in id order, ensure the experiment and the run (found
 * by its job-id tag before one is created), then metrics in log-batch calls within the limits, artifacts,
 * the model version and the run's end. Transient failures keep the rows and retry with backoff (the job
 * is marked `degraded`); a row MLflow rejects for good is set aside with its error, the rest go on.
 */
export function createTrackingDispatcher(options: TrackingDispatcherOptions): TrackingDispatcher {
  const { db, mlflow } = options;
  const intervalMs = options.intervalMs ?? 100;
  const concurrency = options.concurrency ?? 4;
  const rowsPerPass = options.rowsPerPass ?? 500;
  const specParams = options.specParams ?? specFields;
  const log = options.log ?? (() => {});
  const runs = new Map<string, RunInfo>();
  const st: DispatcherState = {
    delivering: true,
    lastError: null,
    lastErrorAt: null,
    lastDeliveryAt: null,
    delivered: 0,
  };
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let stopped = true;

  async function experimentOf(job: JobRow): Promise<string> {
    const project = await db.repos.projects.getById(job.projectId);
    if (!project) throw new PermanentError(`project ${job.projectId} of job ${job.id} does not exist`);
    const org = await db.repos.orgs.getById(project.organisationId);
    const name = experimentNameOf(org?.slug ?? project.organisationId, project.slug);
    const exp = await mlflow.ensureExperiment(name, [{ key: 'llmops.project_id', value: project.id }]);
    return exp.experiment_id;
  }

  async function datasetInputOf(job: JobRow): Promise<DatasetInput | null> {
    const ref = trainJobSpecOf(job).dataset_ref as { name?: unknown; version?: unknown } | undefined;
    const dataset = job.datasetId
      ? await db.repos.datasets.getById(job.projectId, job.datasetId)
      : typeof ref?.name === 'string' && typeof ref.version === 'string'
        ? await db.repos.datasets.getByNameVersion(job.projectId, ref.name, ref.version)
        : null;
    if (!dataset) return null;
    const sha = dataset.sha256 ?? '';
    return {
      tags: [
        { key: 'mlflow.data.context', value: 'training' },
        ...(sha ? [{ key: 'llmops.dataset.sha256', value: sha }] : []),
      ],
      dataset: {
        name: `${dataset.name}@${dataset.version}`,
        // MLflow keeps at most 36 characters of a digest; the full SHA-256 is in the input's tag.
        digest: sha ? sha.slice(0, 36) : 'unknown',
        source_type: 'llmops-catalog',
        source: JSON.stringify({ uri: dataset.storageUri, sha256: dataset.sha256, id: dataset.id }),
      },
    };
  }

  /** The job's run: stored on the job, else found by its tag, else created; params and input logged. */
  async function ensureRun(job: JobRow, startTime: number): Promise<RunInfo> {
    const cached = runs.get(job.id);
    if (cached) return cached;
    const tracking = await db.repos.tracking.getJobTracking(job.id);
    if (tracking?.runId) {
      const run = await mlflow.getRun(tracking.runId);
      if (run && run.info.lifecycle_stage === 'active') {
        runs.set(job.id, run.info);
        return run.info;
      }
    }
    const experimentId = await experimentOf(job);
    const found = await mlflow.searchRuns({
      experimentIds: [experimentId],
      filter: `tags.\`${JOB_ID_TAG}\` = '${job.id}'`,
      maxResults: 1,
      viewType: 'ACTIVE_ONLY',
    });
    let run: Run | undefined = found.items[0];
    if (!run) {
      const name = artifactNameOf(job);
      run = await mlflow.createRun({
        experimentId,
        runName: name ? `${name}-${job.id.slice(0, 8)}` : job.id,
        startTime,
        tags: [
          { key: JOB_ID_TAG, value: job.id },
          { key: 'llmops.project_id', value: job.projectId },
          { key: 'llmops.spec_hash', value: job.specHash },
          { key: 'llmops.submission_kind', value: job.submissionKind },
          ...(job.jobType ? [{ key: 'llmops.job_type', value: job.jobType }] : []),
          { key: 'mlflow.user', value: job.createdBy },
        ],
      });
      log(`tracking: created run ${run.info.run_id} for job ${job.id}`);
    }
    // Params are write-once (same value again is fine) and inputs de-duplicated: safe on every retry.
    for (const part of splitLogBatch(specParams(job.spec)))
      await mlflow.logBatch({ runId: run.info.run_id, ...part });
    const input = await datasetInputOf(job);
    if (input) await mlflow.logInputs(run.info.run_id, [input]);
    await db.repos.tracking.setRun(job.id, { experimentId, runId: run.info.run_id });
    runs.set(job.id, run.info);
    return run.info;
  }

  async function uploadDir(run: RunInfo, dir: string, prefix: string): Promise<number> {
    let n = 0;
    for (const file of await filesUnder(dir)) {
      const rel = relative(dir, file).split(/[\\/]/).join('/');
      await mlflow.uploadArtifact(run, `${prefix}/${rel}`, await readFile(file));
      n += 1;
    }
    return n;
  }

  async function deliverArtifacts(job: JobRow, run: RunInfo, row: OutboxRow): Promise<void> {
    const model = (row.payload.model ?? {}) as Record<string, unknown>;
    const uri = str(model.storageUri);
    const dir = uri ? localPathOfUri(uri, options.artifactsDir) : null;
    if (!dir || !(await exists(dir)))
      throw new PermanentError(`the model files of job ${job.id} are not readable here (${uri ?? 'no uri'})`);
    const files = await uploadDir(run, dir, 'model');
    for (const attempt of await listAttempts(options.runsDir, job.id)) {
      const file = join(options.runsDir, job.id, `attempt-${attempt}`, 'run.log');
      if (await exists(file))
        await mlflow.uploadArtifact(run, `logs/attempt-${attempt}.log`, await readFile(file));
    }
    log(`tracking: uploaded ${files} model file(s) of job ${job.id}`);
  }

  async function deliverPath(run: RunInfo, row: OutboxRow, prefix: string): Promise<void> {
    const path = str(row.payload.path);
    // Checkpoints beyond keep_last are pruned by the runtime: a vanished one has nothing left to upload.
    if (!path || !(await exists(path))) return;
    if ((await stat(path)).isDirectory()) await uploadDir(run, path, prefix);
    else await mlflow.uploadArtifact(run, `${prefix}/${path.split(/[\\/]/).pop()}`, await readFile(path));
  }

  async function deliverModelVersion(job: JobRow, run: RunInfo, row: OutboxRow): Promise<void> {
    const model = (row.payload.model ?? {}) as Record<string, unknown>;
    const name = artifactNameOf(job) ?? str(model.name);
    if (!name) throw new PermanentError(`job ${job.id} has no output.artifact_name to register`);
    const catalogId = str(model.id);
    const catalog = catalogId ? await db.repos.models.getById(job.projectId, catalogId) : null;
    const lineage = (catalog?.metadata.lineage ?? {}) as Record<string, unknown>;
    await mlflow.ensureRegisteredModel(name, [{ key: 'llmops.project_id', value: job.projectId }]);
    let version: string | null = null;
    for (let pageToken: string | undefined; ;) {
      const page = await mlflow.searchModelVersions({
        filter: `run_id = '${run.run_id}'`,
        maxResults: 200,
        pageToken,
      });
      const mine = page.items.find(
        (v) => v.name === name && v.tags?.some((t) => t.key === JOB_ID_TAG && t.value === job.id),
      );
      if (mine) version = mine.version;
      if (mine || !page.nextPageToken) break;
      pageToken = page.nextPageToken;
    }
    if (!version) {
      const parent = lineage.parentModel as { name?: string; version?: string } | null | undefined;
      const tags: KeyValue[] = [
        { key: JOB_ID_TAG, value: job.id },
        { key: 'llmops.spec_hash', value: job.specHash },
        { key: 'llmops.dataset_sha256', value: str(lineage.datasetSha256) ?? 'unknown' },
        { key: 'llmops.runtime_version', value: str(lineage.runtimeVersion) ?? 'unknown' },
        {
          key: 'llmops.parent_model',
          value: parent?.name ? `${parent.name}:${parent.version ?? ''}` : 'none',
        },
      ];
      if (catalog) tags.push({ key: 'llmops.catalog_version', value: catalog.version });
      const created = await mlflow.createModelVersion({
        name,
        source: `${run.artifact_uri ?? ''}/model`,
        runId: run.run_id,
        tags,
        description: `Trained by job ${job.id}`,
      });
      version = created.version;
      log(`tracking: registered ${name} version ${version} for job ${job.id}`);
    }
    await db.repos.tracking.setModelVersion(job.id, version, catalogId);
  }

  /** Delivers one non-metric row. */
  async function deliverOne(job: JobRow, run: RunInfo, row: OutboxRow): Promise<void> {
    switch (row.kind) {
      case 'run_start':
        // A retried job runs again under its run: show it as running until its next end.
        if (run.status !== 'RUNNING') {
          await mlflow.updateRun({ runId: run.run_id, status: 'RUNNING' });
          run.status = 'RUNNING';
        }
        return;
      case 'checkpoint':
        return deliverPath(run, row, `checkpoints/step-${String(row.payload.step ?? 'unknown')}`);
      case 'artifact':
        return deliverPath(run, row, String(row.payload.kind ?? 'other'));
      case 'job_artifacts':
        return deliverArtifacts(job, run, row);
      case 'model_version':
        return deliverModelVersion(job, run, row);
      case 'run_end': {
        const status = runStatusOf(String(row.payload.status));
        if (!status) throw new PermanentError(`run_end row with job status '${String(row.payload.status)}'`);
        await mlflow.updateRun({ runId: run.run_id, status, endTime: atMs(row.payload.at, Date.now()) });
        runs.delete(job.id);
        return;
      }
      case 'metrics':
        return deliverMetrics(run, [row]);
    }
  }

  /**
   * The rows' points in log-batch calls, one after the other (order holds). Calls are cut lazily: the
   * first goes out at once and the next is cut while the previous one is in flight.
   */
  async function deliverMetrics(run: RunInfo, rows: OutboxRow[]): Promise<void> {
    function* metrics() {
      for (const r of rows)
        yield* eachMetricOf(
          (r.payload.points ?? []) as StoredPoint[],
          atMs(r.payload.at, Date.parse(r.createdAt)),
        );
    }
    let inFlight: Promise<void> | null = null;
    try {
      for (const part of logBatchParts({ metrics: metrics() })) {
        const previous = inFlight;
        inFlight = null;
        if (previous) await previous;
        inFlight = mlflow.logBatch({ runId: run.run_id, ...part });
      }
      const last = inFlight;
      inFlight = null;
      if (last) await last;
    } finally {
      // Cutting a call failed while one was in flight: let it settle before the error goes up.
      await inFlight?.catch(() => undefined);
    }
  }

  /** Processes a job's due rows; false when it stopped on a transient error. */
  async function processJob(jobId: string): Promise<number> {
    const rows = await db.repos.tracking.claimBatch(jobId, rowsPerPass);
    if (rows.length === 0) return 0;
    const [job] = await db.repos.jobs.listAll({ jobId });
    let done = 0;
    const fail = async (row: OutboxRow, error: unknown, what: string) => {
      const message = `${what}: ${messageOf(error)}`;
      if (isPermanent(error)) {
        await db.repos.tracking.deadLetter(row.id, message);
        log(`tracking: job ${jobId}: ${row.kind} row ${row.id} set aside: ${message}`);
        done += 1;
        return true;
      }
      const delay = backoffMs(row.attempts + 1, { capMs: options.maxBackoffMs ?? 30_000 });
      await db.repos.tracking.recordFailure(row.id, message, delay);
      await db.repos.tracking.markDegraded(
        jobId,
        `MLflow delivery failing, retrying in ${delay} ms: ${message}`,
      );
      st.delivering = false;
      st.lastError = message;
      st.lastErrorAt = new Date().toISOString();
      return false;
    };
    if (!job) {
      for (const row of rows) await db.repos.tracking.deadLetter(row.id, `job ${jobId} does not exist`);
      return rows.length;
    }
    let run: RunInfo;
    try {
      const start = rows.find((r) => r.kind === 'run_start');
      run = await ensureRun(job, atMs(start?.payload.at, Date.parse(rows[0]!.createdAt)));
    } catch (error) {
      // Without a run nothing can be delivered: even a permanent error holds the queue (with backoff).
      const head = rows[0]!;
      const delay = backoffMs(head.attempts + 1, { capMs: options.maxBackoffMs ?? 30_000 });
      const message = `creating the MLflow run: ${messageOf(error)}`;
      await db.repos.tracking.recordFailure(head.id, message, delay);
      await db.repos.tracking.markDegraded(jobId, message);
      if (!isPermanent(error)) st.delivering = false;
      st.lastError = message;
      st.lastErrorAt = new Date().toISOString();
      return 0;
    }

    for (let i = 0; i < rows.length;) {
      // Consecutive metric rows travel together.
      let j = i;
      while (j < rows.length && rows[j]!.kind === 'metrics') j += 1;
      if (j > i) {
        const group = rows.slice(i, j);
        try {
          await deliverMetrics(run, group);
          await db.repos.tracking.markDelivered(group.map((r) => r.id));
          done += group.length;
        } catch (error) {
          if (!isPermanent(error) || group.length === 1) {
            if (!(await fail(group[0]!, error, 'log-batch'))) return done;
          } else {
            // Find the rejected row: one row at a time (re-sent identical points are harmless).
            for (const row of group) {
              try {
                await deliverMetrics(run, [row]);
                await db.repos.tracking.markDelivered([row.id]);
                done += 1;
              } catch (e) {
                if (!(await fail(row, e, 'log-batch'))) return done;
              }
            }
          }
        }
        i = j;
        continue;
      }
      const row = rows[i]!;
      try {
        await deliverOne(job, run, row);
        await db.repos.tracking.markDelivered([row.id]);
        done += 1;
      } catch (error) {
        if (!(await fail(row, error, row.kind))) return done;
      }
      i += 1;
    }
    await db.repos.tracking.markOk(jobId);
    st.delivering = true;
    st.lastDeliveryAt = new Date().toISOString();
    return done;
  }

  async function tick(): Promise<number> {
    const jobs = await db.repos.tracking.dueJobs(concurrency * 4);
    let total = 0;
    for (let i = 0; i < jobs.length; i += concurrency) {
      const counts = await Promise.all(
        jobs.slice(i, i + concurrency).map((id) =>
          processJob(id).catch((error: unknown) => {
            log(`tracking: job ${id}: ${messageOf(error)}`);
            return 0;
          }),
        ),
      );
      total += counts.reduce((a, b) => a + b, 0);
    }
    st.delivered += total;
    return total;
  }

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((error: unknown) => {
        st.lastError = messageOf(error);
        st.lastErrorAt = new Date().toISOString();
      })
      .then((n) => {
        running = null;
        // Work left over (a long backlog): go again at once; otherwise wait for the interval.
        if (!stopped) timer = setTimeout(loop, typeof n === 'number' && n > 0 ? 0 : intervalMs);
      });
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(loop, 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
    tick,
    state: () => ({ ...st }),
  };
}
