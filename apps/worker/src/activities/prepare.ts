import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DatasetRow, Db, JobRow, ModelRow } from '@llmops/db';
import {
  runtimeSpecSchema,
  submitJobRequestSchema,
  type JobType,
  type RuntimeMode,
  type RuntimeSpec,
  type TrainingSubmission,
} from '@llmops/spec';
import { ApplicationFailure } from '@temporalio/activity';
import { getJob, NON_RETRYABLE } from './jobs.ts';
import type { ActivityDeps, RunPlan } from './types.ts';

type TinyModelConfig = NonNullable<RuntimeSpec['model']['init_config']>;

/**
 * Architecture of a model pre-trained from scratch (TrainJobSpec has no architecture fields yet): a tiny
 * llama whose context covers max_seq_len, so that embedded mode and CI really train in seconds on a CPU.
 * 512 tokens leave room for the runtime's byte-level tokenizer (256 bytes plus special tokens).
 * See docs/decisions/0007-durable-execution.md.
 */
export function defaultPretrainArchitecture(maxSeqLen: number): TinyModelConfig {
  const context = 2 ** Math.ceil(Math.log2(Math.max(1, maxSeqLen)));
  return {
    vocab_size: 512,
    hidden_size: 64,
    intermediate_size: 256,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    max_position_embeddings: Math.min(131_072, Math.max(16, context)),
  };
}

/** Parameters of a llama with untied embeddings and full multi-head attention. */
export function llamaParameterCount(c: TinyModelConfig): number {
  const h = c.hidden_size;
  const perLayer = 4 * h * h + 3 * h * c.intermediate_size + 2 * h;
  return 2 * c.vocab_size * h + c.num_hidden_layers * perLayer + h;
}

const MODE_FOR_JOB_TYPE: Record<JobType, RuntimeMode> = {
  PRETRAIN: 'pretrain',
  SFT: 'sft',
  RLHF: 'dpo',
  RAG_TUNING: 'rag_tuning',
  EMBEDDING: 'embedding',
};

export function runtimeModeFor(body: TrainingSubmission): RuntimeMode {
  const jobType = body.trainJobSpec.job_type;
  if (jobType === 'RLHF' && body.jobType === 'rlhf' && body.rlhfSpec.policy_optimization.algorithm === 'PPO')
    return 'ppo';
  return MODE_FOR_JOB_TYPE[jobType];
}

const SEGMENT = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

/** Local path of a catalog storage URI: `s3://bucket/key` in the local artifact store, `file://`, or a path. */
export function localPathOf(uri: string, artifactsDir: string): string | null {
  if (uri.startsWith('s3://')) {
    const segments = uri.slice('s3://'.length).split('/');
    if (segments.length < 2 || !segments.every((s) => SEGMENT.test(s))) return null;
    return join(resolve(artifactsDir), ...segments);
  }
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  return isAbsolute(uri) ? uri : null;
}

/** Inverse of localPathOf: a path inside the artifact store becomes `s3://bucket/key`. */
export function storageUriOf(path: string, artifactsDir: string): string {
  const rel = relative(resolve(artifactsDir), resolve(path));
  const segments = rel.split(sep);
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && segments.length >= 2)
    return `s3://${segments.join('/')}`;
  return pathToFileURL(path).href;
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, NON_RETRYABLE.invalidJob);
}

async function existingPath(path: string, what: string): Promise<string> {
  try {
    await stat(path);
    return path;
  } catch {
    throw invalid(`${what} is missing at ${path}`);
  }
}

function trainingBody(job: JobRow): TrainingSubmission {
  const parsed = submitJobRequestSchema.safeParse(job.spec);
  if (!parsed.success)
    throw invalid(`Job ${job.id}: the stored submission no longer matches the contract; submit it again`);
  const body = parsed.data;
  if (body.jobType === 'eval')
    throw invalid('Evaluation jobs are run by the evaluation workflow, not as training runs');
  if (body.jobType === 'hpo')
    throw invalid('HPO studies are run by the HPO study workflow, not as a single training run');
  return body;
}

async function datasetOf(db: Db, job: JobRow, body: TrainingSubmission): Promise<DatasetRow> {
  const ref = body.trainJobSpec.dataset_ref;
  const dataset = job.datasetId
    ? await db.repos.datasets.getById(job.projectId, job.datasetId)
    : await db.repos.datasets.getByNameVersion(job.projectId, ref.name, ref.version);
  if (!dataset) throw invalid(`Dataset '${ref.name}' version '${ref.version}' is no longer in the catalog`);
  return dataset;
}

async function baseModelOf(db: Db, job: JobRow, body: TrainingSubmission): Promise<ModelRow | null> {
  const ref = body.trainJobSpec.base_model_ref;
  if (ref === null) return null;
  const model = job.modelId
    ? await db.repos.models.getById(job.projectId, job.modelId)
    : await db.repos.models.getByName(job.projectId, ref);
  if (!model) throw invalid(`Base model '${ref}' is no longer in the catalog`);
  return model;
}

/** A seed that stays the same across the attempts of one job. */
function seedOf(jobId: string): number {
  return parseInt(jobId.replace(/-/g, '').slice(0, 8), 16) % 2 ** 31;
}

export function createPrepareActivities(deps: Omit<ActivityDeps, 'executor' | 'client'>) {
  const { db } = deps;
  return {
    /** Resolves the stored submission into the runtime spec of one attempt; bad references fail for good. */
    async prepareRun(input: { jobId: string; attempt: number; resumeFrom: string | null }): Promise<RunPlan> {
      const job = await getJob(db, input.jobId);
      if (!job.compliance.compliant) {
        const codes = job.compliance.violations.map((v) => v.code).join(', ');
        throw invalid(
          `Job ${job.id} no longer passes the platform rules (${codes}); re-validate it with 'llmops validate jobs --job-id ${job.id}' and fix the submission`,
        );
      }
      const body = trainingBody(job);
      const tjs = body.trainJobSpec;
      const [dataset, baseModel] = await Promise.all([datasetOf(db, job, body), baseModelOf(db, job, body)]);

      const datasetPath = localPathOf(dataset.storageUri, deps.artifactsDir);
      if (!datasetPath)
        throw invalid(
          `Dataset '${dataset.name}' is stored at ${dataset.storageUri}, which this worker cannot read`,
        );
      await existingPath(datasetPath, `The file of dataset '${dataset.name}' version '${dataset.version}'`);

      let basePath: string | null = null;
      if (baseModel) {
        basePath = baseModel.storageUri ? localPathOf(baseModel.storageUri, deps.artifactsDir) : null;
        if (!basePath)
          throw invalid(
            `Base model '${baseModel.name}' version '${baseModel.version}' has no local files (storage_uri ${baseModel.storageUri ?? 'is empty'}); import its files into the catalog first`,
          );
        await existingPath(basePath, `The files of base model '${baseModel.name}'`);
      }
      const initConfig = baseModel ? null : defaultPretrainArchitecture(tjs.hyperparams.max_seq_len);

      const runDir = join(resolve(deps.runsDir), job.id);
      const checkpointDir = join(runDir, 'checkpoints');
      const outputDir = join(
        resolve(deps.artifactsDir),
        'models',
        job.projectId,
        tjs.output.artifact_name,
        job.id,
      );
      await mkdir(checkpointDir, { recursive: true });
      await mkdir(outputDir, { recursive: true });

      const mode = runtimeModeFor(body);
      const lora = tjs.method === 'full' ? null : { r: 8, alpha: 16, dropout: 0.05 };
      const dpo =
        mode === 'dpo'
          ? { beta: (body.jobType === 'rlhf' && body.rlhfSpec.policy_optimization.beta) || 0.1 }
          : null;
      const resolved = runtimeSpecSchema.safeParse({
        job_id: job.id,
        attempt: input.attempt,
        mode,
        job_type: tjs.job_type,
        model: {
          family: tjs.model_family,
          base_model_path: basePath,
          init_config: initConfig,
          tokenizer_path: basePath,
        },
        dataset: { path: datasetPath, type: dataset.type, sha256: dataset.sha256 },
        hyperparams: { ...tjs.hyperparams, max_steps: null, seed: seedOf(job.id) },
        method: tjs.method,
        lora,
        dpo,
        checkpoint: {
          dir: checkpointDir,
          every_n_steps: deps.checkpointEveryNSteps,
          resume_from: input.resumeFrom,
          keep_last: 3,
        },
        output: {
          dir: outputDir,
          artifact_name: tjs.output.artifact_name,
          save_format: tjs.output.save_format,
        },
        use_gpu: tjs.use_gpu,
        synthetic: null,
      });
      if (!resolved.success)
        throw invalid(
          `Job ${job.id}: cannot build the runtime spec: ${resolved.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      const spec = deps.adjustSpec ? deps.adjustSpec(resolved.data) : resolved.data;
      return {
        spec,
        model: {
          projectId: job.projectId,
          name: tjs.output.artifact_name,
          modelFamily: tjs.model_family,
          maxPositionEmbeddings: baseModel?.maxPositionEmbeddings ?? initConfig!.max_position_embeddings,
          parameterCount: baseModel?.parameterCount ?? llamaParameterCount(initConfig!),
          datasetSha256: dataset.sha256,
          specHash: job.specHash,
          parentModel: baseModel
            ? { id: baseModel.id, name: baseModel.name, version: baseModel.version }
            : null,
        },
      };
    },
  };
}
