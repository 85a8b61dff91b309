import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { backfillScope, createError, type JobTrackingView, type TrackingService } from '@llmops/core';
import {
  envelope,
  jobExperimentRunSchema,
  trackingBackfillRequestSchema,
  trackingBackfillResultSchema,
} from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

const jobParams = z.object({ jobId: z.string().min(1).max(200) });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const metricValue = (v: number): number | 'NaN' | 'Infinity' | '-Infinity' =>
  Number.isNaN(v)
    ? 'NaN'
    : v === Number.POSITIVE_INFINITY
      ? 'Infinity'
      : v === Number.NEGATIVE_INFINITY
        ? '-Infinity'
        : v;

/** The `tracking` block of a job response; null when tracking is off in this process. */
export function toJobTracking(t: JobTrackingView | null) {
  return t === null
    ? null
    : {
        status: t.trackingStatus,
        error: t.trackingError,
        runId: t.runId,
        experimentId: t.experimentId,
        modelVersion: t.modelVersion,
        pendingRows: t.pending,
        rejectedRows: t.dead,
      };
}

/** Experiment tracking: the MLflow run of a job and the backfill of runs for past jobs. */
export const trackingRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, { services, tracking }) => {
  const need = (): TrackingService => {
    if (!tracking) throw createError('UNAVAILABLE', 'Experiment tracking is not configured in this process');
    return tracking;
  };

  app.get(
    '/training/jobs/:jobId/experiment-run',
    {
      schema: {
        tags: ['training'],
        summary: "The job's MLflow run: status, latest metrics, tracking state and a link to the MLflow UI",
        params: jobParams,
        response: { 200: envelope(jobExperimentRunSchema) },
      },
    },
    async (req) => {
      const job = await services.training.get(actorOf(req), req.params.jobId);
      const r = await need().experimentRun(job.projectId, job.id);
      return ok('Experiment run', {
        run_id: r.runId,
        experiment_id: r.experimentId,
        status: r.status,
        start_time: iso(r.startTime),
        end_time: iso(r.endTime),
        metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, metricValue(v)])),
        model_version: r.modelVersion,
        tracking_status: r.trackingStatus,
        tracking_error: r.trackingError,
        pending_rows: r.pendingRows,
        rejected_rows: r.rejectedRows,
        ui_url: r.uiUrl,
      });
    },
  );

  app.post(
    '/tracking/backfill',
    {
      schema: {
        tags: ['tracking'],
        summary:
          'Create MLflow runs for ended jobs that have none (tracking was disabled or down); admins; idempotent',
        body: trackingBackfillRequestSchema,
        response: { 200: envelope(trackingBackfillResultSchema) },
      },
      config: { audit: { action: 'tracking.backfill', targetType: 'training_job' } },
    },
    async (req) => {
      backfillScope(actorOf(req), req.body.all_projects);
      const r = await need().backfill(actorOf(req), {
        dryRun: req.body.dry_run,
        allProjects: req.body.all_projects,
      });
      const message = r.dryRun
        ? `${r.jobs.length} job(s) would be backfilled`
        : `${r.jobs.length} job(s) queued for delivery (${r.rows} outbox row(s))`;
      return ok(message, {
        dry_run: r.dryRun,
        jobs: r.jobs.map((j) => ({ job_id: j.jobId, status: j.status, rows: j.rows })),
        rows: r.rows,
      });
    },
  );
};
