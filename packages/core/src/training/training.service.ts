import { createHash } from 'node:crypto';
import { canonicalJson, type Db, type JobRow } from '@llmops/db';
import {
  checkTrainingSubmission,
  estimateGpuHours,
  estimateGpuMemory,
  EVAL_RULES,
  hasTrainJobSpec,
  parseWithRules,
  submitJobRequestSchema,
  type JobState,
  type RuleViolation,
  type SubmitJobRequest,
  type TrainingLookups,
  type TrainingSubmission,
} from '@llmops/spec';
import { createIdempotent } from '../idempotent-create.ts';
import { requireRole, type Actor } from '../identity/actor.ts';
import { createError, notFound, schemaInvalid, validationFailed } from '../errors.ts';
import { ruleContextFor, type PlatformContext } from '../platform-context.ts';
import { selectImage, type ImageChoice } from '../platform/index.ts';
import type { JobOrchestrator } from './orchestrator.ts';

export interface JobEstimates {
  gpuMemoryPerGpuGib: number | null;
  gpuHours: number | null;
  costUsd: number | null;
}

export interface GateResult {
  body: SubmitJobRequest;
  violations: RuleViolation[];
  image: ImageChoice | null;
  estimates: JobEstimates | null;
  lookups: TrainingLookups | null;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function createTrainingService(deps: {
  db: Db;
  platform: PlatformContext;
  orchestrator?: () => JobOrchestrator | null;
}) {
  const { repos } = deps.db;
  const { config } = deps.platform;

  async function lookupsFor(projectId: string, body: TrainingSubmission): Promise<TrainingLookups> {
    const spec = body.trainJobSpec;
    const toModel = (m: Awaited<ReturnType<typeof repos.models.getById>>) =>
      m && {
        id: m.id,
        name: m.name,
        modelFamily: m.modelFamily,
        maxPositionEmbeddings: m.maxPositionEmbeddings,
        parameterCount: m.parameterCount,
      };
    const toDataset = (d: Awaited<ReturnType<typeof repos.datasets.getById>>) =>
      d && { id: d.id, name: d.name, version: d.version, type: d.type, rowCount: d.rowCount };
    const [baseModel, dataset, modelById, datasetById] = await Promise.all([
      spec.base_model_ref ? repos.models.getByName(projectId, spec.base_model_ref) : null,
      repos.datasets.getByNameVersion(projectId, spec.dataset_ref.name, spec.dataset_ref.version),
      body.modelId !== undefined ? repos.models.getById(projectId, body.modelId) : undefined,
      body.datasetId !== undefined ? repos.datasets.getById(projectId, body.datasetId) : undefined,
    ]);
    const out: TrainingLookups = { baseModel: toModel(baseModel), dataset: toDataset(dataset) };
    if (modelById !== undefined) out.modelById = toModel(modelById);
    if (datasetById !== undefined) out.datasetById = toDataset(datasetById);
    return out;
  }

  function estimate(body: TrainingSubmission, lookups: TrainingLookups): JobEstimates {
    const spec = body.trainJobSpec;
    const ctx = ruleContextFor(config);
    const gpu = ctx.gpuTypes.find((g) => g.name === spec.resources.gpu_type);
    const model = lookups.baseModel;
    if (!spec.use_gpu || !gpu || !model || spec.resources.gpus === 0)
      return { gpuMemoryPerGpuGib: null, gpuHours: null, costUsd: null };
    const mem = estimateGpuMemory({
      parameterCount: model.parameterCount,
      method: spec.method,
      precision: spec.hyperparams.precision,
      maxSeqLen: spec.hyperparams.max_seq_len,
      batchSize: spec.hyperparams.batch_size,
      gpus: spec.resources.gpus,
      nodes: spec.resources.nodes,
    });
    const hours = estimateGpuHours({
      parameterCount: model.parameterCount,
      method: spec.method,
      maxSeqLen: spec.hyperparams.max_seq_len,
      numEpochs: spec.hyperparams.num_epochs,
      rowCount: lookups.dataset?.rowCount ?? null,
      gpus: spec.resources.gpus,
      nodes: spec.resources.nodes,
      peakTflops: gpu.peakTflops ?? 100,
    });
    return {
      gpuMemoryPerGpuGib: mem.perGpuGib,
      gpuHours: hours.gpuHours,
      costUsd: Math.round(hours.gpuHours * gpu.pricePerGpuHour * 100) / 100,
    };
  }

  /** The whole gate: shape, then rules against configuration and the project's catalog, then image and estimates. */
  async function gate(
    projectId: string,
    raw: unknown,
  ): Promise<GateResult | { schemaViolations: RuleViolation[] }> {
    const parsed = parseWithRules(submitJobRequestSchema, raw, ['trainJobSpec']);
    if (!parsed.ok) return { schemaViolations: parsed.violations };
    const body = parsed.value;
    if (!hasTrainJobSpec(body)) {
      const violations = EVAL_RULES.flatMap((r) => r.check(body.evalSpec, undefined));
      return { body, violations, image: null, estimates: null, lookups: null };
    }
    const lookups = await lookupsFor(projectId, body);
    const violations = checkTrainingSubmission(body, { ...ruleContextFor(config), lookups });
    const image = selectImage(
      { config, kind: 'train', jobType: body.trainJobSpec.job_type },
      body.trainJobSpec.use_gpu,
      deps.platform.gpuPreference,
      deps.platform.gpu,
    );
    return {
      body,
      violations,
      image,
      estimates: violations.length ? null : estimate(body, lookups),
      lookups,
    };
  }

  /**
   * Hands the stored job to the workflow engine. Submission never fails because the engine is down
   * (FR-008): the job stays QUEUED with an event, and the platform starts QUEUED jobs when it reconnects.
   */
  async function startExecution(job: JobRow) {
    const orchestrator = deps.orchestrator?.();
    if (!orchestrator || job.status !== 'QUEUED') return;
    try {
      await orchestrator.start(job.id);
    } catch (e) {
      await repos.jobs.appendEvent({
        jobId: job.id,
        type: 'start_deferred',
        actor: 'system:api',
        detail: { reason: (e as Error).message },
      });
    }
  }

  function specHashOf(body: SubmitJobRequest): string {
    return sha256(canonicalJson(hasTrainJobSpec(body) ? body.trainJobSpec : body.evalSpec));
  }

  return {
    gate,

    /** POST /training/jobs/validate: the same gate as submission, nothing stored. */
    async validate(actor: Actor, raw: unknown) {
      const project = requireRole(actor, 'viewer');
      const g = await gate(project.id, raw);
      if ('schemaViolations' in g)
        return { valid: false, violations: g.schemaViolations, image: null, estimates: null };
      return {
        valid: g.violations.length === 0,
        violations: g.violations,
        image: g.image,
        estimates: g.estimates,
      };
    },

    /**
     * POST /training/jobs. With an idempotency key the database guarantees one job per (project, key):
     * a replay returns the original job, another body under the same key is a 409.
     */
    async submit(
      actor: Actor,
      raw: unknown,
      headerKey: string | undefined,
    ): Promise<{ job: JobRow; replayed: boolean }> {
      const project = requireRole(actor, 'editor');
      const g = await gate(project.id, raw);
      if ('schemaViolations' in g) throw schemaInvalid(g.schemaViolations, 'Submission');
      if (g.violations.length) throw validationFailed(g.violations, 'Submission');
      const body = g.body;
      if (headerKey && body.idempotencyKey && headerKey !== body.idempotencyKey)
        throw createError(
          'BAD_REQUEST',
          'The Idempotency-Key header and the idempotencyKey field differ; send one or make them equal',
        );
      const key = headerKey ?? body.idempotencyKey;
      const create = async (tx: Db['sql']) => {
        const job = await repos.jobs.create(
          {
            projectId: project.id,
            submissionKind: body.jobType,
            jobType: hasTrainJobSpec(body) ? body.trainJobSpec.job_type : null,
            modelId: g.lookups?.baseModel?.id ?? body.modelId ?? null,
            datasetId: g.lookups?.dataset?.id ?? body.datasetId ?? null,
            spec: body,
            specHash: specHashOf(body),
            priority: body.priority ?? config.policies.default_priority,
            image: g.image?.image ?? null,
            imageVariant: g.image?.variant ?? null,
            imageReason: g.image?.reason ?? null,
            gpuMemoryEstimateGib: g.estimates?.gpuMemoryPerGpuGib ?? null,
            gpuHoursEstimate: g.estimates?.gpuHours ?? null,
            createdBy: actor.userId,
          },
          tx,
        );
        await repos.jobs.appendEvent(
          {
            jobId: job.id,
            type: 'submitted',
            toStatus: 'QUEUED',
            actor: `user:${actor.userId}`,
            detail: { image: g.image, estimates: g.estimates },
          },
          tx,
        );
        return { id: job.id, value: job };
      };
      const { value, replayed } = await createIdempotent(deps.db, {
        projectId: project.id,
        key,
        body,
        resourceType: 'training_job',
        ttlHours: config.policies.idempotency_ttl_hours,
        create,
        load: async (id) => (await repos.jobs.getById(project.id, id))!,
        mismatchHint: '; use a new key for a different job',
      });
      // A replay starts too: starting is idempotent, and it heals a first attempt whose start was deferred.
      await startExecution(value);
      return { job: value, replayed };
    },

    async list(
      actor: Actor,
      q: {
        status?: JobState | undefined;
        jobType?: SubmitJobRequest['jobType'] | undefined;
        limit: number;
        offset: number;
      },
    ) {
      const project = requireRole(actor, 'viewer');
      return repos.jobs.list(project.id, {
        status: q.status,
        submissionKind: q.jobType,
        limit: q.limit,
        offset: q.offset,
      });
    },

    async get(actor: Actor, id: string) {
      const project = requireRole(actor, 'viewer');
      const job = await repos.jobs.getById(project.id, id);
      if (!job) throw notFound('Training job', id);
      return job;
    },

    async events(actor: Actor, id: string) {
      const job = await this.get(actor, id);
      return repos.jobs.listEvents(job.id);
    },
  };
}

export type TrainingService = ReturnType<typeof createTrainingService>;
