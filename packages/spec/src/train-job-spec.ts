import { z } from 'zod';
import {
  datasetTypeSchema,
  jobTypeSchema,
  methodSchema,
  precisionSchema,
  saveFormatSchema,
} from './enums.ts';

const name = z.string().trim().min(1).max(200);
const posInt = z.number().int().positive();

export const datasetRefSchema = z
  .object({
    name: name.describe('Catalog dataset name'),
    version: z.string().trim().min(1).max(100).describe('Catalog dataset version'),
    type: datasetTypeSchema.describe(
      'Dataset type; must match job_type (PRETRAIN→pretrain_corpus, SFT→sft_pair, …)',
    ),
    storage_uri: z.string().trim().min(1).max(2048).describe('Where the data lives (s3://, file://, …)'),
  })
  .strict();

export const hyperparamsSchema = z
  .object({
    lr: z.number().positive().max(1).describe('Learning rate'),
    batch_size: posInt.max(4096).describe('Per-device batch size'),
    num_epochs: posInt.max(1000).describe('Number of passes over the dataset'),
    max_seq_len: posInt.max(1_048_576).describe('Maximum sequence length in tokens'),
    precision: precisionSchema.describe('Training precision'),
  })
  .strict();

export const resourcesSchema = z
  .object({
    gpus: z.number().int().min(0).max(1024).describe('GPUs per node'),
    gpu_type: z.string().trim().min(1).max(64).describe('GPU type from GET /training/gpu-types'),
    nodes: posInt.max(512).describe('Number of nodes'),
  })
  .strict();

export const outputSchema = z
  .object({
    artifact_name: z
      .string()
      .regex(
        /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/,
        'artifact_name may contain letters, digits, ".", "_" and "-" (max 128)',
      )
      .describe('Name of the produced model artifact'),
    save_format: saveFormatSchema.describe('Saved model format'),
  })
  .strict();

/** TrainJobSpec exactly as quickstart.md §4.1. Strict: unknown fields are rejected. */
export const trainJobSpecSchema = z
  .object({
    job_type: jobTypeSchema,
    model_family: z.string().trim().min(1).max(64).describe('Model family from the configured whitelist'),
    base_model_ref: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .nullable()
      .describe('Catalog model name; null for PRETRAIN'),
    dataset_ref: datasetRefSchema,
    hyperparams: hyperparamsSchema,
    method: methodSchema,
    resources: resourcesSchema,
    output: outputSchema,
    use_gpu: z.boolean().describe('false forces the CPU image'),
  })
  .strict()
  .meta({ id: 'TrainJobSpec' });

export type TrainJobSpec = z.infer<typeof trainJobSpecSchema>;
