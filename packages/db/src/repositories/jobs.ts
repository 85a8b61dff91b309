import { randomUUID } from 'node:crypto';
import {
  isUuid,
  jsonParam,
  selectPage,
  toIso,
  toIsoOrNull,
  toNumber,
  toNumberOrNull,
  Where,
} from '../rows.ts';
import type { ListResult, Page } from '../rows.ts';
import type { Sql } from '../sql.ts';
import { COMPLIANT } from './compliance.ts';
import type { Compliance } from './compliance.ts';

export const JOB_STATUSES = [
  'QUEUED',
  'ADMITTED',
  'RUNNING',
  'PAUSED',
  'PREEMPTED',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const SUBMISSION_KINDS = ['pretrain', 'finetune', 'hpo', 'retrain', 'rlhf', 'eval'] as const;
export type SubmissionKind = (typeof SUBMISSION_KINDS)[number];

export interface JobRow {
  id: string;
  projectId: string;
  submissionKind: SubmissionKind;
  jobType: string | null;
  modelId: string | null;
  datasetId: string | null;
  /** The whole validated submission body. */
  spec: Record<string, unknown>;
  specHash: string;
  status: JobStatus;
  priority: number;
  image: string | null;
  imageVariant: string | null;
  imageReason: string | null;
  gpuMemoryEstimateGib: number | null;
  gpuHoursEstimate: number | null;
  compliance: Compliance;
  complianceCheckedAt: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface CreateJobInput {
  /** Pre-generated so the workflow id can equal the job id; random when omitted. */
  id?: string;
  projectId: string;
  submissionKind: SubmissionKind;
  jobType?: string | null;
  modelId?: string | null;
  datasetId?: string | null;
  spec: Record<string, unknown>;
  specHash: string;
  status?: JobStatus;
  priority?: number;
  image?: string | null;
  imageVariant?: string | null;
  imageReason?: string | null;
  gpuMemoryEstimateGib?: number | null;
  gpuHoursEstimate?: number | null;
  compliance?: Compliance;
  createdBy: string;
}

export interface ListJobsFilter extends Page {
  status?: JobStatus | JobStatus[];
  jobType?: string;
  submissionKind?: SubmissionKind;
}

export interface JobEventRow {
  id: number;
  jobId: string;
  type: string;
  fromStatus: JobStatus | null;
  toStatus: JobStatus | null;
  actor: string;
  detail: Record<string, unknown>;
  createdAt: string;
}

export interface AppendJobEventInput {
  jobId: string;
  type: string;
  fromStatus?: JobStatus | null;
  toStatus?: JobStatus | null;
  actor: string;
  detail?: Record<string, unknown>;
}

interface JobRecord {
  id: string;
  project_id: string;
  submission_kind: SubmissionKind;
  job_type: string | null;
  model_id: string | null;
  dataset_id: string | null;
  spec: Record<string, unknown>;
  spec_hash: string;
  status: JobStatus;
  priority: number;
  image: string | null;
  image_variant: string | null;
  image_reason: string | null;
  gpu_memory_estimate_gib: string | number | null;
  gpu_hours_estimate: string | number | null;
  compliance: Compliance;
  compliance_checked_at: Date | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

interface JobEventRecord {
  id: string | number;
  job_id: string;
  type: string;
  from_status: JobStatus | null;
  to_status: JobStatus | null;
  actor: string;
  detail: Record<string, unknown>;
  created_at: Date;
}

const COLUMNS =
  'id, project_id, submission_kind, job_type, model_id, dataset_id, spec, spec_hash, status, priority, image, ' +
  'image_variant, image_reason, gpu_memory_estimate_gib, gpu_hours_estimate, compliance, compliance_checked_at, ' +
  'created_by, created_at, updated_at';

const EVENT_COLUMNS = 'id, job_id, type, from_status, to_status, actor, detail, created_at';

function toJob(r: JobRecord): JobRow {
  return {
    id: r.id,
    projectId: r.project_id,
    submissionKind: r.submission_kind,
    jobType: r.job_type,
    modelId: r.model_id,
    datasetId: r.dataset_id,
    spec: r.spec,
    specHash: r.spec_hash,
    status: r.status,
    priority: r.priority,
    image: r.image,
    imageVariant: r.image_variant,
    imageReason: r.image_reason,
    gpuMemoryEstimateGib: toNumberOrNull(r.gpu_memory_estimate_gib),
    gpuHoursEstimate: toNumberOrNull(r.gpu_hours_estimate),
    compliance: r.compliance,
    complianceCheckedAt: toIsoOrNull(r.compliance_checked_at),
    createdBy: r.created_by,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

function toEvent(r: JobEventRecord): JobEventRow {
  return {
    id: toNumber(r.id),
    jobId: r.job_id,
    type: r.type,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    actor: r.actor,
    detail: r.detail,
    createdAt: toIso(r.created_at),
  };
}

function insertJob(db: Sql, input: CreateJobInput): Promise<JobRecord[]> {
  return db.query<JobRecord>(
    `INSERT INTO training_jobs (id, project_id, submission_kind, job_type, model_id, dataset_id, spec, spec_hash,
       status, priority, image, image_variant, image_reason, gpu_memory_estimate_gib, gpu_hours_estimate,
       compliance, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17)
     RETURNING ${COLUMNS}`,
    [
      input.id ?? randomUUID(),
      input.projectId,
      input.submissionKind,
      input.jobType ?? null,
      input.modelId ?? null,
      input.datasetId ?? null,
      jsonParam(input.spec),
      input.specHash,
      input.status ?? 'QUEUED',
      input.priority ?? 50,
      input.image ?? null,
      input.imageVariant ?? null,
      input.imageReason ?? null,
      input.gpuMemoryEstimateGib ?? null,
      input.gpuHoursEstimate ?? null,
      jsonParam(input.compliance ?? COMPLIANT),
      input.createdBy,
    ],
  );
}

export function createJobsRepository(sql: Sql) {
  return {
    /** Pass `tx` to create the job inside a caller's transaction (idempotent submission). */
    async create(input: CreateJobInput, tx?: Sql): Promise<JobRow> {
      const [row] = await insertJob(tx ?? sql, input);
      return toJob(row!);
    },

    async getById(projectId: string, id: string): Promise<JobRow | null> {
      if (!isUuid(projectId) || !isUuid(id)) return null;
      const [row] = await sql.query<JobRecord>(
        `SELECT ${COLUMNS} FROM training_jobs WHERE project_id = $1 AND id = $2`,
        [projectId, id],
      );
      return row ? toJob(row) : null;
    },

    /** Newest first. */
    async list(projectId: string, filter: ListJobsFilter): Promise<ListResult<JobRow>> {
      const where = new Where().add('project_id = $?', isUuid(projectId) ? projectId : null);
      if (filter.status !== undefined) {
        const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
        where.add('status = ANY($?::text[])', statuses);
      }
      if (filter.jobType) where.add('job_type = $?', filter.jobType);
      if (filter.submissionKind) where.add('submission_kind = $?', filter.submissionKind);
      return selectPage(
        sql,
        { columns: COLUMNS, from: 'training_jobs', where, orderBy: 'created_at DESC, id DESC', page: filter },
        toJob,
      );
    },

    /** Every stored job (optionally one project or one job), oldest first, for re-validation. */
    async listAll(filter: { projectId?: string; jobId?: string } = {}): Promise<JobRow[]> {
      if ((filter.projectId && !isUuid(filter.projectId)) || (filter.jobId && !isUuid(filter.jobId)))
        return [];
      const where = new Where();
      if (filter.projectId) where.add('project_id = $?', filter.projectId);
      if (filter.jobId) where.add('id = $?', filter.jobId);
      const rows = await sql.query<JobRecord>(
        `SELECT ${COLUMNS} FROM training_jobs ${where.sql} ORDER BY created_at, id`,
        where.params,
      );
      return rows.map(toJob);
    },

    /** The job's current queue priority (0–100); null when the job does not exist. */
    async setPriority(id: string, priority: number, tx?: Sql): Promise<JobRow | null> {
      if (!isUuid(id)) return null;
      if (!Number.isInteger(priority) || priority < 0 || priority > 100)
        throw new RangeError(`priority must be an integer from 0 to 100, got ${String(priority)}`);
      const [row] = await (tx ?? sql).query<JobRecord>(
        `UPDATE training_jobs SET priority = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, priority],
      );
      return row ? toJob(row) : null;
    },

    /** Records the outcome of a rules check; null when the job does not exist. */
    async setCompliance(id: string, compliance: Compliance): Promise<JobRow | null> {
      if (!isUuid(id)) return null;
      const [row] = await sql.query<JobRecord>(
        `UPDATE training_jobs SET compliance = $2::jsonb, compliance_checked_at = now(), updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, jsonParam(compliance)],
      );
      return row ? toJob(row) : null;
    },

    /**
     * Moves the job to `to` only if its status is still one of `from` (compare-and-set), and records
     * the transition as an event in the same transaction. Null when the job is not in `from`.
     */
    async transition(
      input: {
        id: string;
        from: JobStatus[];
        to: JobStatus;
        actor: string;
        detail?: Record<string, unknown>;
      },
      tx?: Sql,
    ): Promise<JobRow | null> {
      if (!isUuid(input.id)) return null;
      const run = async (db: Sql): Promise<JobRow | null> => {
        const [before] = await db.query<{ status: JobStatus }>(
          'SELECT status FROM training_jobs WHERE id = $1 AND status = ANY($2::text[]) FOR UPDATE',
          [input.id, input.from],
        );
        if (!before) return null;
        const [row] = await db.query<JobRecord>(
          `UPDATE training_jobs SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
          [input.id, input.to],
        );
        await insertEvent(db, {
          jobId: input.id,
          type: 'status_changed',
          fromStatus: before.status,
          toStatus: input.to,
          actor: input.actor,
          detail: input.detail,
        });
        return toJob(row!);
      };
      return tx ? run(tx) : sql.transaction(run);
    },

    /**
     * The job that produces the artifact `artifactName` (TrainJobSpec `output.artifact_name` inside the
     * stored submission body), preferring a succeeded one, then the newest. Carries the job's
     * `model_family` from the same spec.
     */
    async findByArtifact(
      projectId: string,
      artifactName: string,
    ): Promise<(JobRow & { modelFamily: string | null }) | null> {
      if (!isUuid(projectId)) return null;
      const [row] = await sql.query<JobRecord & { model_family: string | null }>(
        `SELECT ${COLUMNS}, spec #>> '{trainJobSpec,model_family}' AS model_family
           FROM training_jobs
          WHERE project_id = $1 AND spec #>> '{trainJobSpec,output,artifact_name}' = $2
          ORDER BY (status = 'SUCCEEDED') DESC, created_at DESC, id DESC
          LIMIT 1`,
        [projectId, artifactName],
      );
      return row ? { ...toJob(row), modelFamily: row.model_family } : null;
    },

    async appendEvent(input: AppendJobEventInput, tx?: Sql): Promise<JobEventRow> {
      return insertEvent(tx ?? sql, input);
    },

    /**
     * Several events, of one job or many, in one statement (all or none), stored in the order given: a
     * supervisor writing the progress of many runs pays one round trip instead of one per event.
     */
    async appendEvents(inputs: readonly AppendJobEventInput[], tx?: Sql): Promise<JobEventRow[]> {
      if (inputs.length === 0) return [];
      const rows = inputs.map((e) => ({
        job_id: e.jobId,
        type: e.type,
        from_status: e.fromStatus ?? null,
        to_status: e.toStatus ?? null,
        actor: e.actor,
        detail: e.detail ?? {},
      }));
      const inserted = await (tx ?? sql).query<JobEventRecord>(
        `INSERT INTO job_events (job_id, type, from_status, to_status, actor, detail)
         SELECT e.job_id, e.type, e.from_status, e.to_status, e.actor, e.detail
         FROM ROWS FROM (
           jsonb_to_recordset($1::jsonb)
             AS (job_id uuid, type text, from_status text, to_status text, actor text, detail jsonb)
         ) WITH ORDINALITY AS e(job_id, type, from_status, to_status, actor, detail, n)
         ORDER BY e.n
         RETURNING ${EVENT_COLUMNS}`,
        [jsonParam(rows)],
      );
      return inserted.map(toEvent).sort((a, b) => a.id - b.id);
    },

    /** In the order they happened. */
    async listEvents(jobId: string): Promise<JobEventRow[]> {
      if (!isUuid(jobId)) return [];
      const rows = await sql.query<JobEventRecord>(
        `SELECT ${EVENT_COLUMNS} FROM job_events WHERE job_id = $1 ORDER BY id`,
        [jobId],
      );
      return rows.map(toEvent);
    },

    /** Whether the job has an event written by the workflow operation `op` (detail.op). */
    async hasEventWithOp(jobId: string, op: string): Promise<boolean> {
      if (!isUuid(jobId)) return false;
      const rows = await sql.query<{ found: number }>(
        `SELECT 1 AS found FROM job_events WHERE job_id = $1 AND detail->>'op' = $2 LIMIT 1`,
        [jobId, op],
      );
      return rows.length > 0;
    },
  };
}

async function insertEvent(db: Sql, input: AppendJobEventInput): Promise<JobEventRow> {
  const [row] = await db.query<JobEventRecord>(
    `INSERT INTO job_events (job_id, type, from_status, to_status, actor, detail)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING ${EVENT_COLUMNS}`,
    [
      input.jobId,
      input.type,
      input.fromStatus ?? null,
      input.toStatus ?? null,
      input.actor,
      jsonParam(input.detail ?? {}),
    ],
  );
  return toEvent(row!);
}

export type JobsRepository = ReturnType<typeof createJobsRepository>;
