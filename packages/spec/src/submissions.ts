import { z } from 'zod';
import { datasetRefSchema, trainJobSpecSchema } from './train-job-spec.ts';

const id = z.string().trim().min(1).max(200);
const common = {
  modelId: id.optional().describe('Catalog id of the base model (must match base_model_ref)'),
  datasetId: id.optional().describe('Catalog id of the dataset (must match dataset_ref)'),
  priority: z
    .number()
    .int()
    .min(0)
    .max(100)
    .optional()
    .describe('0 (lowest) … 100 (highest); default from policy'),
  idempotencyKey: z.string().trim().min(1).max(200).optional().describe('Same as the Idempotency-Key header'),
  description: z.string().max(2000).optional(),
};

/** Parameters an HPO search space may tune. */
export const HPO_TUNABLE_PARAMS = [
  'lr',
  'batch_size',
  'num_epochs',
  'max_seq_len',
  'lora_r',
  'lora_alpha',
  'warmup_ratio',
  'weight_decay',
] as const;

export const searchParamSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('float'), low: z.number(), high: z.number(), log: z.boolean().optional() })
    .strict(),
  z
    .object({
      type: z.literal('int'),
      low: z.number().int(),
      high: z.number().int(),
      step: z.number().int().positive().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('categorical'),
      choices: z
        .array(z.union([z.string(), z.number(), z.boolean()]))
        .min(1)
        .max(100),
    })
    .strict(),
]);
export type SearchParam = z.infer<typeof searchParamSchema>;

export const hpoSpecSchema = z
  .object({
    search_space: z.record(z.string(), searchParamSchema).describe('Parameter name → range or choices'),
    algorithm: z.enum(['grid', 'random', 'bayesian']),
    objective: z
      .object({ metric: z.string().trim().min(1).max(100), direction: z.enum(['minimize', 'maximize']) })
      .strict(),
    max_trials: z.number().int().positive().max(1000),
    parallelism: z.number().int().positive().max(100),
    pruning: z
      .object({
        policy: z.enum(['none', 'median', 'successive_halving']),
        warmup_steps: z.number().int().min(0).max(1_000_000).optional(),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'HpoSpec' });
export type HpoSpec = z.infer<typeof hpoSpecSchema>;

export const rlhfSpecSchema = z
  .object({
    reward_model: z
      .object({
        dataset_ref: datasetRefSchema,
        base_model_ref: z.string().trim().min(1).max(200).optional(),
        num_epochs: z.number().int().positive().max(100).default(1),
      })
      .strict(),
    policy_optimization: z
      .object({
        algorithm: z.enum(['DPO', 'PPO']),
        beta: z.number().positive().max(10).optional().describe('DPO temperature'),
        kl_coef: z.number().min(0).max(10).optional().describe('PPO KL penalty'),
      })
      .strict(),
    safety: z
      .object({
        suites: z.array(z.string().trim().min(1).max(100)).min(1).max(20),
        max_violation_rate: z.number().min(0).max(1),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'RlhfSpec' });
export type RlhfSpec = z.infer<typeof rlhfSpecSchema>;

export const evalSpecSchema = z
  .object({
    model_version: z
      .string()
      .trim()
      .min(1)
      .max(300)
      .describe('Registered model "name/version" or "name@alias"'),
    suites: z
      .array(
        z
          .object({ name: z.string().trim().min(1).max(100), dataset_ref: datasetRefSchema.optional() })
          .strict(),
      )
      .min(1)
      .max(50),
    thresholds: z.record(
      z.string().trim().min(1).max(100),
      z.object({ min: z.number().optional(), max: z.number().optional() }).strict(),
    ),
  })
  .strict()
  .meta({ id: 'EvalSpec' });
export type EvalSpec = z.infer<typeof evalSpecSchema>;

const trainingKind = <K extends string>(kind: K) =>
  z.object({ jobType: z.literal(kind), ...common, trainJobSpec: trainJobSpecSchema }).strict();

/** Body of POST /llm-ops/v1/training/jobs: a discriminated union on `jobType` (SPEC C1). */
export const submitJobRequestSchema = z
  .discriminatedUnion('jobType', [
    trainingKind('pretrain'),
    trainingKind('finetune'),
    trainingKind('retrain').extend({
      parentJobId: id.optional().describe('The job whose model this retrains'),
    }),
    trainingKind('hpo').extend({ hpoSpec: hpoSpecSchema }),
    trainingKind('rlhf').extend({ rlhfSpec: rlhfSpecSchema }),
    z.object({ jobType: z.literal('eval'), ...common, evalSpec: evalSpecSchema }).strict(),
  ])
  .meta({ id: 'SubmitJobRequest' });

export type SubmitJobRequest = z.infer<typeof submitJobRequestSchema>;
export type TrainingSubmission = Exclude<SubmitJobRequest, { jobType: 'eval' }>;

export function hasTrainJobSpec(body: SubmitJobRequest): body is TrainingSubmission {
  return body.jobType !== 'eval';
}
