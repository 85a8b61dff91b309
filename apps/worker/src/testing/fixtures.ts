import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db, JobRow } from '@llmops/db';
import type { TrainingSubmission } from '@llmops/spec';

function suffix(): string {
  return randomBytes(4).toString('hex');
}

export interface SeedJobOptions {
  projectId: string;
  /** Root of the local artifact store the worker reads (`s3://bucket/key` → `<artifactsDir>/bucket/key`). */
  artifactsDir: string;
  jobType?: 'SFT' | 'PRETRAIN';
  priority?: number;
  artifactName?: string;
}

/**
 * A stored training job as the submission gate leaves it (QUEUED, validated body in `spec`), with its
 * dataset file in the artifact store and, for SFT, a base model directory.
 */
export async function seedTrainingJob(db: Db, opts: SeedJobOptions): Promise<JobRow> {
  const { repos } = db;
  const id = suffix();
  const jobType = opts.jobType ?? 'SFT';
  const datasetType = jobType === 'SFT' ? 'sft_pair' : 'pretrain_corpus';
  const content =
    jobType === 'SFT'
      ? '{"instruction":"Say hi","input":"","output":"hi"}\n{"instruction":"Say bye","input":"","output":"bye"}\n'
      : '{"text":"the quick brown fox"}\n{"text":"jumps over the lazy dog"}\n';
  const key = `${opts.projectId}/corpus-${id}/v1.jsonl`;
  const datasetFile = join(opts.artifactsDir, 'datasets', ...key.split('/'));
  await mkdir(join(datasetFile, '..'), { recursive: true });
  await writeFile(datasetFile, content);
  const dataset = await repos.datasets.create({
    projectId: opts.projectId,
    name: `corpus-${id}`,
    version: 'v1',
    type: datasetType,
    storageUri: `s3://datasets/${key}`,
    sha256: createHash('sha256').update(content).digest('hex'),
    sizeBytes: Buffer.byteLength(content),
    rowCount: 2,
    format: 'jsonl',
    createdBy: 'test',
  });

  let baseModel = null;
  if (jobType === 'SFT') {
    const modelKey = `${opts.projectId}/base-${id}`;
    await mkdir(join(opts.artifactsDir, 'models', ...modelKey.split('/')), { recursive: true });
    baseModel = await repos.models.create({
      projectId: opts.projectId,
      name: `base-${id}`,
      modelFamily: 'llama',
      maxPositionEmbeddings: 2048,
      parameterCount: 1_000_000,
      storageUri: `s3://models/${modelKey}`,
      createdBy: 'test',
    });
  }

  const body: TrainingSubmission = {
    jobType: jobType === 'SFT' ? 'finetune' : 'pretrain',
    trainJobSpec: {
      job_type: jobType,
      model_family: 'llama',
      base_model_ref: baseModel?.name ?? null,
      dataset_ref: { name: dataset.name, version: 'v1', type: datasetType, storage_uri: dataset.storageUri },
      hyperparams: { lr: 0.001, batch_size: 2, num_epochs: 1, max_seq_len: 128, precision: 'bf16' },
      method: jobType === 'SFT' ? 'lora' : 'full',
      resources: { gpus: 0, gpu_type: 'T4', nodes: 1 },
      output: { artifact_name: opts.artifactName ?? `out-${id}`, save_format: 'hf' },
      use_gpu: false,
    },
  };
  const job = await repos.jobs.create({
    projectId: opts.projectId,
    submissionKind: body.jobType,
    jobType,
    modelId: baseModel?.id ?? null,
    datasetId: dataset.id,
    spec: body as unknown as Record<string, unknown>,
    specHash: createHash('sha256').update(JSON.stringify(body.trainJobSpec)).digest('hex'),
    priority: opts.priority ?? 50,
    createdBy: 'test',
  });
  await repos.jobs.appendEvent({ jobId: job.id, type: 'submitted', toStatus: 'QUEUED', actor: 'user:test' });
  return job;
}
