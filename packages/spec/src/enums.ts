import { z } from 'zod';

/** Training job types of TrainJobSpec (quickstart.md §4.1). */
export const JOB_TYPES = ['PRETRAIN', 'SFT', 'RAG_TUNING', 'RLHF', 'EMBEDDING'] as const;
export const jobTypeSchema = z.enum(JOB_TYPES);
export type JobType = z.infer<typeof jobTypeSchema>;

/** Dataset types; each job type accepts exactly one (SPEC C1). */
export const DATASET_TYPES = [
  'pretrain_corpus',
  'sft_pair',
  'rag_qa',
  'rlhf_pair',
  'embedding_pair',
] as const;
export const datasetTypeSchema = z.enum(DATASET_TYPES);
export type DatasetType = z.infer<typeof datasetTypeSchema>;

export const DATASET_TYPE_FOR_JOB: Record<JobType, DatasetType> = {
  PRETRAIN: 'pretrain_corpus',
  SFT: 'sft_pair',
  RAG_TUNING: 'rag_qa',
  RLHF: 'rlhf_pair',
  EMBEDDING: 'embedding_pair',
};

export const METHODS = ['full', 'lora', 'qlora'] as const;
export const methodSchema = z.enum(METHODS);
export type Method = z.infer<typeof methodSchema>;

export const PRECISIONS = ['fp16', 'bf16'] as const;
export const precisionSchema = z.enum(PRECISIONS);
export type Precision = z.infer<typeof precisionSchema>;

export const SAVE_FORMATS = ['hf', 'safetensors'] as const;
export const saveFormatSchema = z.enum(SAVE_FORMATS);

export const SERVE_TARGETS = ['GENERATION', 'RAG'] as const;
export const serveTargetSchema = z.enum(SERVE_TARGETS);
export type ServeTarget = z.infer<typeof serveTargetSchema>;

/** Serve targets each training job type may be deployed as (FR-023). */
export const SERVE_TARGETS_FOR_JOB: Record<JobType, readonly ServeTarget[]> = {
  PRETRAIN: ['GENERATION'],
  SFT: ['GENERATION'],
  RLHF: ['GENERATION'],
  RAG_TUNING: ['RAG'],
  EMBEDDING: ['RAG'],
};

export const ROLLOUT_STRATEGIES = ['blue-green', 'canary'] as const;
export const rolloutStrategySchema = z.enum(ROLLOUT_STRATEGIES);

/** Deployment environments; configuration has one overlay per environment. */
export const ENVIRONMENTS = ['dev', 'stg', 'prod'] as const;
export const environmentSchema = z.enum(ENVIRONMENTS);
export type Environment = z.infer<typeof environmentSchema>;

/** Top-level submission kinds of POST /training/jobs (SPEC C1). */
export const SUBMISSION_KINDS = ['pretrain', 'finetune', 'hpo', 'retrain', 'rlhf', 'eval'] as const;
export type SubmissionKind = (typeof SUBMISSION_KINDS)[number];

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/** Job lifecycle states (SPEC C2). Stored now; transitions are driven by the durable workflow. */
export const JOB_STATES = [
  'QUEUED',
  'ADMITTED',
  'RUNNING',
  'PAUSED',
  'PREEMPTED',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
] as const;
export const jobStateSchema = z.enum(JOB_STATES);
export type JobState = z.infer<typeof jobStateSchema>;

export const GPU_PREFERENCES = ['auto', 'gpu', 'cpu'] as const;
export const gpuPreferenceSchema = z.enum(GPU_PREFERENCES);
export type GpuPreference = z.infer<typeof gpuPreferenceSchema>;
