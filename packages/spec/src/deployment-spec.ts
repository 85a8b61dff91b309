import { z } from 'zod';
import { jobTypeSchema, rolloutStrategySchema, serveTargetSchema } from './enums.ts';

export const trafficSplitSchema = z
  .object({
    old: z.number().int().min(0).max(100),
    new: z.number().int().min(0).max(100),
  })
  .strict();

/** DeploymentSpec exactly as quickstart.md §4.2. Strict: unknown fields are rejected. */
export const deploymentSpecSchema = z
  .object({
    model_ref: z.string().trim().min(1).max(200).describe('Trained model artifact (catalog model name)'),
    model_family: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .describe('Must match the model family of the training job'),
    job_type: jobTypeSchema.describe('job_type of the training job that produced the model'),
    serve_target: serveTargetSchema.describe('GENERATION or RAG; must be compatible with job_type'),
    resources: z
      .object({
        gpus: z.number().int().min(0).max(64),
        gpu_memory_gb: z.number().int().min(0).max(4096),
      })
      .strict(),
    runtime: z
      .object({
        max_concurrent_requests: z.number().int().positive().max(100_000),
        max_input_tokens: z.number().int().positive().max(1_048_576),
        max_output_tokens: z.number().int().positive().max(1_048_576),
      })
      .strict(),
    rollout: z
      .object({
        strategy: rolloutStrategySchema,
        traffic_split: trafficSplitSchema.optional(),
      })
      .strict(),
    use_gpu: z.boolean(),
  })
  .strict()
  .meta({ id: 'DeploymentSpec' });

export type DeploymentSpec = z.infer<typeof deploymentSpecSchema>;
