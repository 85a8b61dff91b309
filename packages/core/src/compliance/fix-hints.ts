import type { RuleCode, RuleViolation } from '@llmops/spec';

/** How to make a stored item compliant again, per violated rule. */
const HINTS: Partial<Record<RuleCode, string>> = {
  MODEL_FAMILY_NOT_SUPPORTED:
    'Change model_family to a supported family, or ask an administrator to add it to config/platform.yaml model_families',
  JOB_TYPE_NOT_ALLOWED_FOR_FAMILY:
    "Use a job_type the family allows (see the family's allowed_job_types in configuration)",
  DATASET_TYPE_INCOMPATIBLE: 'Point dataset_ref at a dataset of the type the job_type expects',
  BASE_MODEL_NOT_ALLOWED:
    'Set base_model_ref to null for PRETRAIN, or use job_type SFT to start from a base model',
  BASE_MODEL_REQUIRED: 'Set base_model_ref to a catalog model name',
  BASE_MODEL_NOT_FOUND: 'Register the base model with POST /llm-ops/v1/catalog/models, or fix base_model_ref',
  BASE_MODEL_FAMILY_MISMATCH: "Make model_family equal to the base model's family",
  METHOD_NOT_ALLOWED: "Use method 'full' for PRETRAIN",
  MAX_SEQ_LEN_EXCEEDS_MODEL:
    "Lower hyperparams.max_seq_len to at most the base model's max_position_embeddings",
  GPU_TYPE_NOT_AVAILABLE: 'Pick a gpu_type from GET /llm-ops/v1/training/gpu-types for this environment',
  GPU_REQUIRED_FOR_USE_GPU: 'Request at least one GPU, or set use_gpu to false',
  RESOURCES_EXCEED_POLICY: 'Request fewer GPUs or nodes (see policies in configuration)',
  FIT_EXCEEDS_GPU_MEMORY:
    'Use more GPUs, a larger GPU type, lora/qlora, a smaller batch_size or a shorter max_seq_len',
  DATASET_NOT_FOUND: 'Register the dataset with POST /llm-ops/v1/catalog/datasets, or fix dataset_ref',
  DATASET_REF_MISMATCH: 'Make dataset_ref (and datasetId) agree with the catalog dataset',
  MODEL_NOT_FOUND: 'Remove modelId or set it to a catalog model id of this project',
  MODEL_REF_MISMATCH: 'Make modelId name the same model as base_model_ref',
  SUBMISSION_KIND_MISMATCH:
    'Use the jobType that matches trainJobSpec.job_type (pretrain ↔ PRETRAIN, rlhf ↔ RLHF)',
  SERVE_TARGET_INCOMPATIBLE:
    'Use serve_target RAG for RAG_TUNING/EMBEDDING models and GENERATION for SFT/RLHF/PRETRAIN',
  MODEL_REF_NOT_FOUND: 'Train or register the model named by model_ref first',
  DEPLOYMENT_FAMILY_MISMATCH: "Make model_family equal to the model's family",
  DEPLOYMENT_JOB_TYPE_MISMATCH:
    'Make job_type equal to the job_type of the training job that produced the model',
  MAX_INPUT_TOKENS_EXCEEDS_MODEL:
    "Lower runtime.max_input_tokens to at most the model's max_position_embeddings",
  TRAFFIC_SPLIT_REQUIRED: 'Add rollout.traffic_split {old, new} summing to 100',
  TRAFFIC_SPLIT_SUM: 'Make traffic_split.old + traffic_split.new equal 100',
  TRAFFIC_SPLIT_NOT_APPLICABLE: 'Remove traffic_split or use the canary strategy',
  GPU_MEMORY_UNAVAILABLE: 'Lower resources.gpu_memory_gb to what a configured GPU type offers',
  IMAGE_OVERRIDE_FORBIDDEN: 'Remove the image field; the platform selects images from configuration',
};

export function fixFor(v: RuleViolation): string {
  const hint = HINTS[v.code] ?? 'Correct the field so it matches the contract (see the OpenAPI document)';
  return `${v.path}: ${hint}`;
}
