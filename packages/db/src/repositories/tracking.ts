import { isUuid, toIso, toIsoOrNull, toNumber } from '../rows.ts';
import type { Sql } from '../sql.ts';

export const OUTBOX_KINDS = [
  'run_start',
  'metrics',
  'checkpoint',
  'artifact',
  'job_artifacts',
  'model_version',
  'run_end',
] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

export const TRACKING_STATUSES = ['ok', 'degraded', 'disabled'] as const;
export type TrackingStatus = (typeof TRACKING_STATUSES)[number];

export interface OutboxRow {
  id: number;
  jobId: string;
  kind: OutboxKind;
  payload: Record<string, unknown>;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  deadAt: string | null;
}

export interface JobTracking {
  jobId: string;
  projectId: string;
  status: string;
  experimentId: string | null;
  runId: string | null;
  modelVersion: string | null;
  trackingStatus: TrackingStatus;
  trackingError: string | null;
  trackingUpdatedAt: string | null;
  /** Rows still to deliver and rows moved aside (rejected by MLflow for good). */
  pending: number;
  dead: number;
}

interface OutboxRecord {
  id: string | number;
  job_id: string;
  kind: OutboxKind;
  payload: Record<string, unknown>;
  created_at: Date;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  dead_at: Date | null;
}

interface TrackingRecord {
  id: string;
  project_id: string;
  status: string;
  mlflow_experiment_id: string | null;
  mlflow_run_id: string | null;
  mlflow_model_version: string | null;
  tracking_status: TrackingStatus;
  tracking_error: string | null;
  tracking_updated_at: Date | null;
  pending: string | number;
  dead: string | number;
}

const OUTBOX_COLUMNS =
  'id, job_id, kind, payload, created_at, attempts, next_attempt_at, last_error, dead_at';
const ENDED = `('SUCCEEDED', 'FAILED', 'CANCELLED')`;

function toOutbox(r: OutboxRecord): OutboxRow {
  return {
    id: toNumber(r.id),
    jobId: r.job_id,
    kind: r.kind,
    payload: r.payload,
    createdAt: toIso(r.created_at),
    attempts: r.attempts,
    nextAttemptAt: toIso(r.next_attempt_at),
    lastError: r.last_error,
    deadAt: toIsoOrNull(r.dead_at),
  };
}

function toTracking(r: TrackingRecord): JobTracking {
  return {
    jobId: r.id,
    projectId: r.project_id,
    status: r.status,
    experimentId: r.mlflow_experiment_id,
    runId: r.mlflow_run_id,
    modelVersion: r.mlflow_model_version,
    trackingStatus: r.tracking_status,
    trackingError: r.tracking_error,
    trackingUpdatedAt: toIsoOrNull(r.tracking_updated_at),
    pending: toNumber(r.pending),
    dead: toNumber(r.dead),
  };
}

const TRACKING_SELECT = `SELECT j.id, j.project_id, j.status, j.mlflow_experiment_id, j.mlflow_run_id,
       j.mlflow_model_version, j.tracking_status, j.tracking_error, j.tracking_updated_at,
       (SELECT count(*) FROM tracking_outbox o WHERE o.job_id = j.id AND o.dead_at IS NULL) AS pending,
       (SELECT count(*) FROM tracking_outbox o WHERE o.job_id = j.id AND o.dead_at IS NOT NULL) AS dead
  FROM training_jobs j`;

function assertDelayMs(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`retry delay must be ≥ 0 ms, got ${String(ms)}`);
}

/**
 * The tracking outbox (rows written by the job_events trigger of migration 0002) and the tracking
 * columns of training_jobs. One dispatcher per database delivers the rows.
 */
export function createTrackingRepository(sql: Sql) {
  return {
    /** Jobs whose oldest live row is due, oldest first: a row in backoff holds back the rest of its job. */
    async dueJobs(limit: number): Promise<string[]> {
      const rows = await sql.query<{ job_id: string }>(
        `SELECT job_id FROM (
           SELECT DISTINCT ON (job_id) job_id, id, next_attempt_at
             FROM tracking_outbox WHERE dead_at IS NULL ORDER BY job_id, id
         ) AS head
          WHERE next_attempt_at <= now()
          ORDER BY id
          LIMIT $1`,
        [limit],
      );
      return rows.map((r) => r.job_id);
    },

    /**
     * Claims the job's next rows, in id order, when its oldest live row is due: their `next_attempt_at`
     * moves `leaseMs` ahead, so another dispatcher skips the job until they are delivered (deleted), a
     * failure sets the retry time, or the lease runs out (a dispatcher that died). Empty when the job is
     * not due or already claimed.
     */
    async claimBatch(jobId: string, limit: number, leaseMs = 60_000): Promise<OutboxRow[]> {
      if (!isUuid(jobId)) return [];
      assertDelayMs(leaseMs);
      const rows = await sql.query<OutboxRecord>(
        `WITH head AS (
           SELECT id, next_attempt_at FROM tracking_outbox
            WHERE job_id = $1 AND dead_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE
         ), batch AS (
           SELECT o.id FROM tracking_outbox o
            WHERE o.job_id = $1 AND o.dead_at IS NULL
              AND EXISTS (SELECT 1 FROM head WHERE head.next_attempt_at <= now())
            ORDER BY o.id LIMIT $2
         )
         UPDATE tracking_outbox t
            SET next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
           FROM batch WHERE t.id = batch.id
         RETURNING t.id, t.job_id, t.kind, t.payload, t.created_at, t.attempts, t.next_attempt_at,
                   t.last_error, t.dead_at`,
        [jobId, limit, leaseMs],
      );
      return rows.map(toOutbox).sort((a, b) => a.id - b.id);
    },

    /** Delivered: the rows are deleted. */
    async markDelivered(ids: number[]): Promise<number> {
      if (ids.length === 0) return 0;
      const rows = await sql.query(`DELETE FROM tracking_outbox WHERE id = ANY($1::bigint[]) RETURNING id`, [
        ids,
      ]);
      return rows.length;
    },

    /** A transient failure: the row (and so its job's queue) waits `delayMs` before the next try. */
    async recordFailure(id: number, error: string, delayMs: number): Promise<void> {
      assertDelayMs(delayMs);
      await sql.query(
        `UPDATE tracking_outbox
            SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
          WHERE id = $1`,
        [id, error, delayMs],
      );
    },

    /** A permanent failure: the row is moved aside and kept for inspection; the queue goes on. */
    async deadLetter(id: number, error: string): Promise<void> {
      await sql.query(
        `UPDATE tracking_outbox SET attempts = attempts + 1, last_error = $2, dead_at = now() WHERE id = $1`,
        [id, error],
      );
    },

    async listRows(jobId: string, options: { dead?: boolean } = {}): Promise<OutboxRow[]> {
      if (!isUuid(jobId)) return [];
      const rows = await sql.query<OutboxRecord>(
        `SELECT ${OUTBOX_COLUMNS} FROM tracking_outbox
          WHERE job_id = $1 AND ($2::boolean IS NULL OR (dead_at IS NOT NULL) = $2) ORDER BY id`,
        [jobId, options.dead ?? null],
      );
      return rows.map(toOutbox);
    },

    /** Live rows still to deliver (all jobs), and the age of the oldest in seconds. */
    async backlog(): Promise<{ pending: number; dead: number; oldestAgeSeconds: number | null }> {
      const [row] = await sql.query<{ pending: string; dead: string; oldest: number | string | null }>(
        `SELECT count(*) FILTER (WHERE dead_at IS NULL) AS pending,
                count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
                extract(epoch FROM now() - min(created_at) FILTER (WHERE dead_at IS NULL)) AS oldest
           FROM tracking_outbox`,
      );
      return {
        pending: toNumber(row!.pending),
        dead: toNumber(row!.dead),
        oldestAgeSeconds: row!.oldest === null ? null : Math.round(Number(row!.oldest)),
      };
    },

    /**
     * Tracking disabled: rows of ended jobs are dropped and the jobs marked `disabled` (the backfill
     * rebuilds them from job_events later). Rows of jobs still running are kept.
     */
    async pruneEnded(): Promise<number> {
      return sql.transaction(async (tx) => {
        await tx.query(
          `UPDATE training_jobs SET tracking_status = 'disabled', tracking_updated_at = now(),
                  tracking_error = 'experiment tracking was disabled when the job ran'
            WHERE status IN ${ENDED} AND mlflow_run_id IS NULL AND tracking_status <> 'disabled'
              AND id IN (SELECT job_id FROM tracking_outbox)`,
        );
        const rows = await tx.query(
          `DELETE FROM tracking_outbox o USING training_jobs j
            WHERE o.job_id = j.id AND j.status IN ${ENDED} RETURNING o.id`,
        );
        return rows.length;
      });
    },

    /**
     * Rebuilds the outbox rows of a job from its stored events (backfill); rows already queued for the
     * job are replaced so running it twice queues nothing twice.
     */
    async rebuildFromEvents(jobId: string): Promise<number> {
      if (!isUuid(jobId)) return 0;
      return sql.transaction(async (tx) => {
        await tx.query('DELETE FROM tracking_outbox WHERE job_id = $1', [jobId]);
        const rows = await tx.query(
          `INSERT INTO tracking_outbox (job_id, kind, payload)
           SELECT e.job_id, r.kind, r.payload
             FROM job_events e CROSS JOIN LATERAL tracking_outbox_rows(e) AS r
            WHERE e.job_id = $1
            ORDER BY e.id
           RETURNING id`,
          [jobId],
        );
        return rows.length;
      });
    },

    /** Ended jobs that have no run (tracking was disabled or down and their rows were dropped). */
    async jobsWithoutRun(
      projectId?: string,
    ): Promise<{ jobId: string; projectId: string; status: string; pending: number }[]> {
      if (projectId !== undefined && !isUuid(projectId)) return [];
      const rows = await sql.query<{ id: string; project_id: string; status: string; pending: string }>(
        `SELECT j.id, j.project_id, j.status,
                (SELECT count(*) FROM tracking_outbox o WHERE o.job_id = j.id AND o.dead_at IS NULL) AS pending
           FROM training_jobs j
          WHERE j.status IN ${ENDED} AND j.mlflow_run_id IS NULL
            AND ($1::uuid IS NULL OR j.project_id = $1)
            AND EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.id
                         AND e.type = 'status_changed' AND e.to_status = 'RUNNING')
          ORDER BY j.created_at, j.id`,
        [projectId ?? null],
      );
      return rows.map((r) => ({
        jobId: r.id,
        projectId: r.project_id,
        status: r.status,
        pending: toNumber(r.pending),
      }));
    },

    async getJobTracking(jobId: string): Promise<JobTracking | null> {
      if (!isUuid(jobId)) return null;
      const [row] = await sql.query<TrackingRecord>(`${TRACKING_SELECT} WHERE j.id = $1`, [jobId]);
      return row ? toTracking(row) : null;
    },

    async setRun(jobId: string, run: { experimentId: string; runId: string }): Promise<void> {
      await sql.query(
        `UPDATE training_jobs SET mlflow_experiment_id = $2, mlflow_run_id = $3, tracking_updated_at = now()
          WHERE id = $1`,
        [jobId, run.experimentId, run.runId],
      );
    },

    /** The registered version on the job and on the catalog model the job created. */
    async setModelVersion(jobId: string, version: string, catalogModelId: string | null): Promise<void> {
      await sql.transaction(async (tx) => {
        await tx.query(
          'UPDATE training_jobs SET mlflow_model_version = $2, tracking_updated_at = now() WHERE id = $1',
          [jobId, version],
        );
        if (catalogModelId && isUuid(catalogModelId))
          await tx.query('UPDATE catalog_models SET mlflow_model_version = $2 WHERE id = $1', [
            catalogModelId,
            version,
          ]);
      });
    },

    /** Delivery works: back to ok; a note about rows moved aside stays on the job (tracking_error). */
    async markOk(jobId: string): Promise<void> {
      await sql.query(
        `WITH dead AS (
           SELECT CASE WHEN count(*) = 0 THEN NULL ELSE
                    count(*) || ' outbox row(s) rejected by MLflow and set aside; last: ' ||
                    (array_agg(last_error ORDER BY id DESC))[1] END AS note
             FROM tracking_outbox WHERE job_id = $1 AND dead_at IS NOT NULL)
         UPDATE training_jobs
            SET tracking_status = 'ok', tracking_error = dead.note, tracking_updated_at = now()
           FROM dead
          WHERE id = $1 AND (tracking_status <> 'ok' OR tracking_error IS DISTINCT FROM dead.note)`,
        [jobId],
      );
    },

    async markDegraded(jobId: string, error: string): Promise<void> {
      await sql.query(
        `UPDATE training_jobs SET tracking_status = 'degraded', tracking_error = $2, tracking_updated_at = now()
          WHERE id = $1`,
        [jobId, error],
      );
    },
  };
}

export type TrackingRepository = ReturnType<typeof createTrackingRepository>;
