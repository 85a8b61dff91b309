/**
 * Stable rule codes. Clients and tests key on these; never rename one, only add.
 * Each maps to the human rule it enforces (docs/api/rules.md is generated from this table).
 */
export const RULE_CODES = {
  // Schema-level (the request does not have the shape of the contract)
  SCHEMA_REQUIRED: 'A required field is missing',
  SCHEMA_INVALID_TYPE: 'A field has the wrong type',
  SCHEMA_INVALID_VALUE: 'A field is outside its allowed values or range',
  SCHEMA_UNKNOWN_FIELD: 'A field that the contract does not define',
  // TrainJobSpec rules (SPEC C1)
  MODEL_FAMILY_NOT_SUPPORTED: 'model_family must be in the configured whitelist',
  JOB_TYPE_NOT_ALLOWED_FOR_FAMILY: 'the model family must allow the job_type (e.g. bert only EMBEDDING)',
  DATASET_TYPE_INCOMPATIBLE: 'dataset_ref.type must match job_type',
  BASE_MODEL_NOT_ALLOWED: 'base_model_ref must be null for PRETRAIN',
  BASE_MODEL_REQUIRED: 'base_model_ref is required for every job_type except PRETRAIN',
  BASE_MODEL_NOT_FOUND: 'base_model_ref must name a catalog model of the project',
  BASE_MODEL_FAMILY_MISMATCH: 'the base model must be of the same model_family',
  METHOD_NOT_ALLOWED: 'PRETRAIN allows only method "full"',
  MAX_SEQ_LEN_EXCEEDS_MODEL: 'max_seq_len must be <= base_model.max_position_embeddings',
  GPU_TYPE_NOT_AVAILABLE: 'gpu_type must be one of the GPU types configured for the environment',
  GPU_REQUIRED_FOR_USE_GPU: 'use_gpu=true needs at least one GPU',
  RESOURCES_EXCEED_POLICY: 'gpus and nodes must stay within the policy limits',
  FIT_EXCEEDS_GPU_MEMORY: 'the estimated memory per GPU must fit the GPU type',
  IMAGE_OVERRIDE_FORBIDDEN: 'images are chosen by the platform from configuration, never by the request',
  DATASET_NOT_FOUND: 'dataset_ref (or datasetId) must name a catalog dataset of the project',
  DATASET_REF_MISMATCH: 'dataset_ref must agree with the catalog dataset it names',
  MODEL_NOT_FOUND: 'modelId must name a catalog model of the project',
  MODEL_REF_MISMATCH: 'modelId and base_model_ref must name the same model',
  SUBMISSION_KIND_MISMATCH: 'the submission kind (jobType) must agree with trainJobSpec.job_type',
  // HPO / RLHF / eval
  HPO_PARAM_NOT_TUNABLE: 'search_space keys must be tunable hyper-parameters',
  HPO_RANGE_INVALID: 'a search range needs low < high (and low > 0 with log scale)',
  HPO_GRID_NOT_DISCRETE: 'grid search needs int or categorical parameters',
  HPO_PARALLELISM_EXCEEDS_TRIALS: 'parallelism must not exceed max_trials',
  EVAL_THRESHOLD_EMPTY: 'each eval threshold needs min or max (min <= max)',
  // DeploymentSpec rules (SPEC C7)
  SERVE_TARGET_INCOMPATIBLE:
    'serve_target must be compatible with job_type (RAG_TUNING→RAG, SFT/RLHF→GENERATION)',
  MODEL_REF_NOT_FOUND: 'model_ref must name a catalog model of the project',
  DEPLOYMENT_FAMILY_MISMATCH: 'model_family must match the model (and the job that trained it)',
  DEPLOYMENT_JOB_TYPE_MISMATCH: 'job_type must match the job that trained the model',
  MAX_INPUT_TOKENS_EXCEEDS_MODEL: 'max_input_tokens must be <= the model max_position_embeddings',
  TRAFFIC_SPLIT_REQUIRED: 'canary rollouts need traffic_split',
  TRAFFIC_SPLIT_SUM: 'traffic_split.old + traffic_split.new must equal 100',
  TRAFFIC_SPLIT_NOT_APPLICABLE: 'traffic_split applies to canary rollouts only',
  GPU_MEMORY_UNAVAILABLE: 'gpu_memory_gb must be available on a configured GPU type',
} as const;

export type RuleCode = keyof typeof RULE_CODES;

/** Errors of the HTTP contract (the `code` of an error envelope's data). */
export const ERROR_CODES = {
  VALIDATION_FAILED: 422,
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  NON_COMPLIANT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;
