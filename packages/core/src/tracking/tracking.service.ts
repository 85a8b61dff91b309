import type { Db, JobTracking } from '@llmops/db';

export type { JobTracking as JobTrackingView } from '@llmops/db';
import type { MlflowApi, RunStatus } from '@llmops/integrations-mlflow';
import { createError } from '../errors.ts';
import { requireRole, type Actor } from '../identity/actor.ts';
import { messageOf } from './delivery.ts';
import type { DispatcherState } from './dispatcher.ts';

export interface JobExperimentRun {
  runId: string;
  experimentId: string;
  status: RunStatus;
  startTime: number | null;
  endTime: number | null;
  /** Latest value per metric key, as MLflow reports it. */
  metrics: Record<string, number>;
  trackingStatus: JobTracking['trackingStatus'];
  trackingError: string | null;
  pendingRows: number;
  rejectedRows: number;
  modelVersion: string | null;
  uiUrl: string;
}

export interface TrackingHealth {
  status: 'ok' | 'degraded' | 'down' | 'disabled';
  latencyMs: number | null;
  error: string | null;
  backlog: { pending: number; rejected: number; oldestAgeSeconds: number | null } | null;
}

export interface BackfillItem {
  jobId: string;
  status: string;
  /** Outbox rows rebuilt from the job's events (0 in a dry run). */
  rows: number;
}

export interface BackfillReport {
  dryRun: boolean;
  jobs: BackfillItem[];
  rows: number;
}

export interface TrackingServiceDeps {
  db: Db;
  /** Null when experiment tracking is disabled. */
  mlflow: MlflowApi | null;
  /** The running dispatcher's state, when this process delivers. */
  dispatcher?: () => DispatcherState | null;
}

/**
 * Who may backfill what: every project for organisation administrators (`allProjects`), otherwise the
 * actor's project for its admins. Returns the project id, or undefined for every project.
 */
export function backfillScope(actor: Actor, allProjects: boolean): string | undefined {
  if (!allProjects) return requireRole(actor, 'admin').id;
  if (!actor.orgAdmin)
    throw createError('FORBIDDEN', 'Only organisation administrators can backfill every project');
  return undefined;
}

/** Read side of experiment tracking (the API) and the backfill. */
export function createTrackingService(deps: TrackingServiceDeps) {
  const { db, mlflow } = deps;
  return {
    enabled: mlflow !== null,

    /** The job's tracking state without asking MLflow (job GET). */
    async jobTracking(jobId: string): Promise<JobTracking | null> {
      return db.repos.tracking.getJobTracking(jobId);
    },

    async experimentRun(projectId: string, jobId: string): Promise<JobExperimentRun> {
      const tracking = await db.repos.tracking.getJobTracking(jobId);
      if (!tracking || tracking.projectId !== projectId)
        throw createError('NOT_FOUND', `Training job ${jobId} not found`);
      if (!mlflow)
        throw createError(
          'NOT_FOUND',
          `Experiment tracking is disabled (EXPERIMENT_TRACKING_ENABLED=false): job ${jobId} has no MLflow run; run 'llmops tracking backfill' after enabling it`,
        );
      if (!tracking.runId)
        throw createError(
          'NOT_FOUND',
          tracking.trackingStatus === 'degraded'
            ? `Job ${jobId} has no MLflow run yet: delivery is failing (${tracking.trackingError ?? 'unknown error'}); it is retried`
            : `Job ${jobId} has no MLflow run yet (${tracking.pending} tracking row(s) waiting; a run is created when the job starts)`,
        );
      const run = await mlflow.getRun(tracking.runId).catch((error: unknown) => {
        throw createError('UNAVAILABLE', `MLflow at ${mlflow.baseUrl} did not answer: ${messageOf(error)}`);
      });
      if (!run)
        throw createError('NOT_FOUND', `MLflow run ${tracking.runId} of job ${jobId} no longer exists`);
      const metrics: Record<string, number> = {};
      for (const m of run.data.metrics ?? []) metrics[m.key] = m.value;
      return {
        runId: run.info.run_id,
        experimentId: run.info.experiment_id,
        status: run.info.status,
        startTime: run.info.start_time ?? null,
        endTime: run.info.end_time ?? null,
        metrics,
        trackingStatus: tracking.trackingStatus,
        trackingError: tracking.trackingError,
        pendingRows: tracking.pending,
        rejectedRows: tracking.dead,
        modelVersion: tracking.modelVersion,
        uiUrl: mlflow.runUrl(run.info.experiment_id, run.info.run_id),
      };
    },

    /** The MLflow entry of the integrations health: reachable, latency, and whether delivery keeps up. */
    async health(): Promise<TrackingHealth> {
      if (!mlflow) return { status: 'disabled', latencyMs: null, error: null, backlog: null };
      const b = await db.repos.tracking.backlog().catch(() => null);
      const backlog = b
        ? { pending: b.pending, rejected: b.dead, oldestAgeSeconds: b.oldestAgeSeconds }
        : null;
      const state = deps.dispatcher?.() ?? null;
      try {
        const { latencyMs } = await mlflow.health();
        if (state && !state.delivering)
          return {
            status: 'degraded',
            latencyMs,
            error: `tracking degraded: ${state.lastError ?? ''}`,
            backlog,
          };
        return { status: 'ok', latencyMs, error: null, backlog };
      } catch (error) {
        return {
          status: 'down',
          latencyMs: null,
          error: `tracking degraded: MLflow at ${mlflow.baseUrl} unreachable: ${messageOf(error)}`,
          backlog,
        };
      }
    },

    /**
     * Ended jobs without a run get their outbox rows rebuilt from their stored events; the dispatcher
     * delivers them (finding an existing run by its job-id tag, so running this twice creates nothing twice).
     */
    async backfill(
      actor: Actor,
      options: {
        dryRun?: boolean;
        /** Every project (organisation administrators); otherwise the actor's project (admins). */
        allProjects?: boolean;
        onProgress?: (item: BackfillItem, index: number, total: number) => void;
      } = {},
    ): Promise<BackfillReport> {
      const dryRun = options.dryRun ?? false;
      const scope = backfillScope(actor, options.allProjects ?? false);
      if (!mlflow && !dryRun)
        throw createError(
          'CONFLICT',
          'Experiment tracking is disabled (EXPERIMENT_TRACKING_ENABLED=false): nothing would deliver a backfill; enable it or use dry_run',
        );
      const candidates = await db.repos.tracking.jobsWithoutRun(scope);
      const jobs: BackfillItem[] = [];
      let rows = 0;
      for (const [i, c] of candidates.entries()) {
        const n = dryRun ? 0 : await db.repos.tracking.rebuildFromEvents(c.jobId);
        const item = { jobId: c.jobId, status: c.status, rows: n };
        rows += n;
        jobs.push(item);
        options.onProgress?.(item, i, candidates.length);
      }
      return { dryRun, jobs, rows };
    },
  };
}

export type TrackingService = ReturnType<typeof createTrackingService>;
