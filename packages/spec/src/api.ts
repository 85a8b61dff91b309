import { z } from 'zod';
import {
  datasetTypeSchema,
  environmentSchema,
  jobStateSchema,
  roleSchema,
  SUBMISSION_KINDS,
} from './enums.ts';
import { RULE_CODES, ERROR_CODES } from './codes.ts';
import { deploymentSpecSchema } from './deployment-spec.ts';
import { submitJobRequestSchema } from './submissions.ts';

// ---- Envelope -------------------------------------------------------------------------------------------

export const ruleViolationSchema = z
  .object({
    code: z.enum(Object.keys(RULE_CODES) as [keyof typeof RULE_CODES, ...(keyof typeof RULE_CODES)[]]),
    path: z.string(),
    message: z.string(),
  })
  .meta({ id: 'RuleViolation' });

export const errorDataSchema = z
  .object({
    code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
    violations: z.array(ruleViolationSchema).optional(),
    requestId: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'ErrorData' });

export const errorEnvelopeSchema = z
  .object({ status: z.literal('error'), message: z.string(), data: errorDataSchema })
  .meta({ id: 'ErrorEnvelope' });

export function envelope<T extends z.ZodType>(data: T) {
  return z.object({ status: z.literal('success'), message: z.string(), data });
}

export function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  });
}

export const paginationQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const iso = z.string().describe('ISO 8601 timestamp');
const slug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and "-", 1–63 characters');

// ---- Identity -------------------------------------------------------------------------------------------

export const organisationSchema = z
  .object({ id: z.string(), slug: z.string(), name: z.string(), createdAt: iso })
  .meta({ id: 'Organisation' });
export const createOrganisationSchema = z.object({ slug, name: z.string().trim().min(1).max(200) }).strict();

export const projectSchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    slug: z.string(),
    name: z.string(),
    createdAt: iso,
    role: roleSchema.optional(),
  })
  .meta({ id: 'Project' });
export const createProjectSchema = z
  .object({
    slug,
    name: z.string().trim().min(1).max(200),
    organisation: slug.optional().describe('Organisation slug; default: the caller’s'),
  })
  .strict();

export const memberSchema = z
  .object({
    projectId: z.string(),
    userId: z.string(),
    userName: z.string(),
    role: roleSchema,
    createdAt: iso,
  })
  .meta({ id: 'Member' });
export const addMemberSchema = z
  .object({
    userId: z.string().optional().describe('An existing user'),
    name: z.string().trim().min(1).max(200).optional().describe('Creates a new user with this name'),
    email: z.string().email().optional(),
    role: roleSchema,
  })
  .strict()
  .refine((b) => (b.userId ? !b.name : !!b.name), {
    message: 'give either userId (existing user) or name (new user)',
  });

export const tokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    userId: z.string(),
    defaultProjectId: z.string().nullable(),
    createdAt: iso,
    lastUsedAt: iso.nullable(),
    expiresAt: iso.nullable(),
    revokedAt: iso.nullable(),
  })
  .meta({ id: 'ApiToken' });
export const createTokenSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    userId: z.string().optional().describe('Issue for another user (project admins only)'),
    project: slug.optional().describe('Default project slug; default: the current project'),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
export const createdTokenSchema = tokenSchema.extend({
  token: z.string().describe('Shown once; store it safely'),
});

export const whoamiSchema = z.object({
  userId: z.string(),
  userName: z.string(),
  orgAdmin: z.boolean(),
  project: z.object({ id: z.string(), slug: z.string(), role: roleSchema }).nullable(),
  projects: z.array(projectSchema),
});

// ---- Catalog --------------------------------------------------------------------------------------------

export const createModelSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    version: z.string().trim().min(1).max(100).default('1'),
    model_family: z.string().trim().min(1).max(64),
    max_position_embeddings: z.number().int().positive().max(10_000_000),
    parameter_count: z.number().int().positive().max(10_000_000_000_000),
    storage_uri: z.string().trim().min(1).max(2048).optional(),
    description: z.string().max(5000).optional(),
  })
  .strict()
  .meta({ id: 'CreateModel' });

export const modelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.string(),
    model_family: z.string(),
    max_position_embeddings: z.number(),
    parameter_count: z.number(),
    storage_uri: z.string().nullable(),
    description: z.string().nullable(),
    lineage: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('For models trained here: dataset SHA-256, spec hash, runtime version, parent model, job id'),
    created_by: z.string(),
    created_at: iso,
  })
  .meta({ id: 'Model' });

export const createDatasetRefSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    version: z.string().trim().min(1).max(100),
    type: datasetTypeSchema,
    storage_uri: z.string().trim().min(1).max(2048),
    description: z.string().max(5000).optional(),
  })
  .strict()
  .meta({ id: 'CreateDataset' });

export const datasetValidationSchema = z.object({
  rows: z.number().int(),
  valid: z.number().int(),
  errors: z.array(z.object({ row: z.number().int(), message: z.string() })),
});

export const datasetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.string(),
    type: datasetTypeSchema,
    storage_uri: z.string(),
    sha256: z.string().nullable(),
    size_bytes: z.number().nullable(),
    row_count: z.number().nullable(),
    format: z.string().nullable(),
    validation: datasetValidationSchema.nullable(),
    created_by: z.string(),
    created_at: iso,
  })
  .meta({ id: 'Dataset' });

// ---- Training -------------------------------------------------------------------------------------------

export const complianceSchema = z
  .object({ compliant: z.boolean(), violations: z.array(ruleViolationSchema), checkedAt: iso.nullable() })
  .meta({ id: 'Compliance' });

export const jobEstimatesSchema = z.object({
  gpuMemoryPerGpuGib: z.number().nullable(),
  gpuHours: z.number().nullable(),
  costUsd: z.number().nullable(),
});

export const TRACKING_STATUSES = ['ok', 'degraded', 'disabled'] as const;

export const jobTrackingSchema = z
  .object({
    status: z
      .enum(TRACKING_STATUSES)
      .describe(
        'ok: delivered to MLflow; degraded: delivery failing and retried; disabled: tracking was off',
      ),
    error: z.string().nullable(),
    runId: z.string().nullable(),
    experimentId: z.string().nullable(),
    modelVersion: z.string().nullable().describe('Version registered in the MLflow model registry'),
    pendingRows: z.number().int().describe('Outbox rows still to deliver'),
    rejectedRows: z.number().int().describe('Outbox rows MLflow rejected for good (set aside)'),
  })
  .meta({ id: 'JobTracking' });

export const trainingJobSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    status: jobStateSchema,
    jobType: z.enum(SUBMISSION_KINDS),
    trainJobType: z.string().nullable(),
    modelId: z.string().nullable(),
    datasetId: z.string().nullable(),
    priority: z.number().int(),
    submission: submitJobRequestSchema,
    specHash: z.string(),
    image: z.string().nullable(),
    imageVariant: z.enum(['gpu', 'cpu']).nullable(),
    imageReason: z.string().nullable(),
    estimates: jobEstimatesSchema,
    compliance: complianceSchema,
    queue: z
      .object({ position: z.number().int().nullable(), estimatedStart: iso.nullable() })
      .nullable()
      .optional()
      .describe('Place in the admission queue while QUEUED (GET of one job only)'),
    tracking: jobTrackingSchema
      .nullable()
      .optional()
      .describe('Experiment tracking state (GET of one job only)'),
    createdBy: z.string(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'TrainingJob' });

export const jobLogsSchema = z
  .object({
    jobId: z.string(),
    status: jobStateSchema,
    attempt: z.number().int().nullable(),
    attempts: z.array(z.number().int()),
    lines: z.array(z.string()),
  })
  .meta({ id: 'JobLogs' });

export const retryJobSchema = z
  .object({
    fromCheckpoint: z
      .string()
      .trim()
      .min(1)
      .max(2048)
      .optional()
      .describe('Checkpoint path; default the latest'),
  })
  .strict();
export const setPriorityBodySchema = z.object({ priority: z.number().int().min(0).max(100) }).strict();

export const jobListQuerySchema = paginationQuerySchema.extend({
  status: jobStateSchema.optional(),
  jobType: z.enum(SUBMISSION_KINDS).optional(),
});

export const validationResultSchema = z
  .object({
    valid: z.boolean(),
    violations: z.array(ruleViolationSchema),
    image: z.object({ image: z.string(), variant: z.enum(['gpu', 'cpu']), reason: z.string() }).nullable(),
    estimates: jobEstimatesSchema.nullable(),
  })
  .meta({ id: 'ValidationResult' });

export const gpuTypeSchema = z
  .object({
    name: z.string(),
    memory_gib: z.number(),
    price_per_gpu_hour: z.number(),
    max_per_node: z.number().nullable(),
  })
  .meta({ id: 'GpuType' });

export const gpuTypesQuerySchema = z.object({ env: environmentSchema.optional() });

// ---- Serving --------------------------------------------------------------------------------------------

export const createEndpointSchema = z
  .object({
    modelId: z.string().trim().min(1).max(200).optional(),
    route: z
      .string()
      .regex(
        /^\/[a-zA-Z0-9][a-zA-Z0-9._/-]{0,199}$/,
        'route must start with "/" followed by letters, digits, ".", "_", "-" or "/"',
      ),
    environment: environmentSchema,
    name: z.string().trim().min(1).max(200).optional(),
    idempotencyKey: z.string().trim().min(1).max(200).optional(),
    deploymentSpec: deploymentSpecSchema,
  })
  .strict()
  .meta({ id: 'CreateEndpoint' });

export const endpointSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    name: z.string().nullable(),
    route: z.string(),
    environment: environmentSchema,
    modelId: z.string().nullable(),
    status: z.string(),
    deploymentSpec: deploymentSpecSchema,
    image: z.string(),
    imageVariant: z.enum(['gpu', 'cpu']),
    imageReason: z.string(),
    compliance: complianceSchema,
    createdBy: z.string(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'ServingEndpoint' });

export const servingBackendSchema = z
  .enum(['local', 'kserve', 'ray'])
  .describe(
    'Serving backend of the endpoint (SERVING_FRAMEWORK_DEFAULT): local model server, KServe or Ray Serve',
  );

export const deploymentManifestSchema = z
  .object({
    backend: servingBackendSchema,
    kind: z
      .enum(['InferenceService', 'RayService'])
      .nullable()
      .describe('Kind of the native object; null for the local model server, which has none'),
    manifest: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe(
        'The Kubernetes object the backend runs (serving.kserve.io/v1beta1 InferenceService or ray.io/v1 RayService); null for local or when it cannot be built',
      ),
    error: z
      .object({
        code: z.string(),
        field: z.string().describe('The spec field, context value or manifest path that must change'),
        message: z.string(),
      })
      .nullable()
      .describe('Why no manifest could be built (e.g. the model version has no storage URI)'),
  })
  .meta({ id: 'DeploymentManifest' });

export const endpointValidationResultSchema = validationResultSchema
  .extend({
    deployment: deploymentManifestSchema
      .nullable()
      .describe(
        'The manifest the endpoint would get (endpoint id "dry-run"); null when the body is malformed or breaks a rule',
      ),
  })
  .meta({ id: 'EndpointValidationResult' });

export const endpointDeploymentSchema = z
  .object({
    endpointId: z.string(),
    deploymentSpec: deploymentSpecSchema,
    image: z.string(),
    imageVariant: z.enum(['gpu', 'cpu']),
    imageReason: z.string(),
    converted: z
      .record(z.string(), z.unknown())
      .describe(
        'Native forms keyed by kind (InferenceService, RayService); empty for the local model server',
      ),
    backend: servingBackendSchema,
    kind: deploymentManifestSchema.shape.kind,
    manifest: deploymentManifestSchema.shape.manifest,
    manifestError: deploymentManifestSchema.shape.error,
  })
  .meta({ id: 'EndpointDeployment' });

// ---- Audit and re-validation ----------------------------------------------------------------------------

export const auditEntrySchema = z
  .object({
    seq: z.number().int(),
    at: iso,
    actor: z.string(),
    projectId: z.string().nullable(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    result: z.string(),
    statusCode: z.number().int(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEntry' });

export const auditVerifySchema = z
  .object({
    ok: z.boolean(),
    checked: z.number().int(),
    firstBrokenSeq: z.number().int().nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'AuditVerification' });

export const revalidateRequestSchema = z
  .object({ kind: z.enum(['jobs', 'endpoints']), id: z.string().optional() })
  .strict();

export const revalidateItemSchema = z.object({
  id: z.string(),
  kind: z.enum(['job', 'endpoint']),
  compliant: z.boolean(),
  violations: z.array(ruleViolationSchema),
  fix: z.array(z.string()).describe('How to make the item compliant, one step per violation'),
});
export const revalidateResultSchema = z
  .object({ checked: z.number().int(), nonCompliant: z.number().int(), items: z.array(revalidateItemSchema) })
  .meta({ id: 'RevalidationReport' });

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  version: z.string(),
  uptimeSeconds: z.number(),
  checks: z.record(
    z.string(),
    z.object({
      status: z.enum(['ok', 'degraded', 'down', 'disabled']),
      latencyMs: z.number().nullable(),
      error: z.string().nullable(),
      backlog: z
        .object({
          pending: z.number().int(),
          rejected: z.number().int(),
          oldestAgeSeconds: z.number().nullable(),
        })
        .nullable()
        .optional()
        .describe('Tracking outbox (mlflow check only): rows to deliver, rows set aside, age of the oldest'),
    }),
  ),
});

// ---- Model registry (MLflow) ----------------------------------------------------------------------------

/** Registry stages; each is an MLflow alias of the same name on the registered model. */
export const REGISTRY_STAGES = ['dev', 'staging', 'prod'] as const;
export const registryStageSchema = z.enum(REGISTRY_STAGES);
export type RegistryStage = z.infer<typeof registryStageSchema>;

/** A page of an MLflow listing: MLflow pages by opaque token, not by offset. */
export function tokenPage<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextPageToken: z.string().nullable().describe('Pass as pageToken to get the next page; null at the end'),
  });
}

const mlflowVersion = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'a model version number such as "3"')
  .describe('MLflow model version (a positive integer as a string)');
const registeredModelName = z.string().trim().min(1).max(500);

export const registryModelsQuerySchema = z
  .object({
    search: z.string().trim().min(1).max(200).optional().describe('Substring of the registered model name'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    pageToken: z.string().min(1).max(2000).optional(),
  })
  .strict();

export const registryVersionsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    pageToken: z.string().min(1).max(2000).optional(),
  })
  .strict();

export const registryModelParamsSchema = z.object({ name: registeredModelName });
export const registryAliasParamsSchema = z.object({
  name: registeredModelName,
  alias: z
    .string()
    .regex(/^[\w-]{1,255}$/, 'letters, digits, "_" and "-", at most 255 characters')
    .describe('An MLflow alias, e.g. a stage: dev, staging, prod'),
});

export const registeredModelSchema = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    createdAt: iso.nullable(),
    updatedAt: iso.nullable(),
    aliases: z.record(z.string(), z.string()).describe('alias → version'),
    latestVersion: z.string().nullable(),
    tags: z.record(z.string(), z.string()),
    mlflowUrl: z.string(),
  })
  .meta({ id: 'RegisteredModel' });

export const modelVersionLineageSchema = z.object({
  jobId: z.string().nullable().describe('The training job that produced the version (tag llmops.job_id)'),
  projectId: z.string().nullable(),
  datasetDigest: z.string().nullable(),
  specHash: z.string().nullable(),
  runtimeVersion: z.string().nullable(),
});

export const modelVersionSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    status: z.enum(['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY']).nullable(),
    source: z.string(),
    runId: z.string().nullable(),
    createdAt: iso.nullable(),
    description: z.string().nullable(),
    aliases: z.array(z.string()),
    tags: z.record(z.string(), z.string()),
    lineage: modelVersionLineageSchema,
    mlflowUrl: z.string(),
  })
  .meta({ id: 'ModelVersion' });

export const promoteRequestSchema = z
  .object({ version: mlflowVersion, stage: registryStageSchema })
  .strict()
  .meta({ id: 'PromoteRequest' });

export const rollbackRequestSchema = z
  .object({ stage: registryStageSchema })
  .strict()
  .meta({ id: 'RollbackRequest' });

export const aliasMoveSchema = z
  .object({
    id: z.string().nullable().describe('The recorded move; null when the alias already pointed there'),
    model: z.string(),
    stage: registryStageSchema,
    kind: z.enum(['promote', 'rollback']),
    fromVersion: z.string().nullable(),
    toVersion: z.string(),
    moved: z.boolean(),
    actor: z.string(),
    at: iso,
  })
  .meta({ id: 'AliasMove' });

// ---- Experiments (MLflow runs) --------------------------------------------------------------------------

const isoInstant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const experimentRunsQuerySchema = z
  .object({
    model: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .optional()
      .describe('Registered model name (output.artifact_name) or base model'),
    dataset: z.string().trim().min(1).max(500).optional().describe('Dataset name or digest'),
    from: isoInstant.optional().describe('Runs started at or after (ISO 8601 date or date-time)'),
    to: isoInstant.optional().describe('Runs started before (ISO 8601 date or date-time)'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    pageToken: z.string().min(1).max(2000).optional(),
  })
  .strict();

export const metricValueSchema = z
  .union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])
  .describe('A metric value; non-finite values as the strings NaN, Infinity, -Infinity');

export const experimentRunSchema = z
  .object({
    runId: z.string(),
    runName: z.string().nullable(),
    experimentId: z.string(),
    status: z.string(),
    startTime: iso.nullable(),
    endTime: iso.nullable(),
    jobId: z.string().nullable(),
    datasets: z.array(z.object({ name: z.string(), digest: z.string(), context: z.string().nullable() })),
    params: z.record(z.string(), z.string()),
    metrics: z.record(z.string(), metricValueSchema).describe('Latest value of each metric'),
    tags: z.record(z.string(), z.string()),
    runUrl: z.string(),
  })
  .meta({ id: 'ExperimentRun' });

export const MAX_COMPARED_RUNS = 10;

export const compareRunsRequestSchema = z
  .object({
    run_ids: z
      .array(z.string().trim().min(1).max(64))
      .min(1)
      .max(MAX_COMPARED_RUNS, `at most ${MAX_COMPARED_RUNS} runs can be compared`),
  })
  .strict()
  .meta({ id: 'CompareRunsRequest' });

export const runComparisonSchema = z
  .object({
    runs: z.array(experimentRunSchema),
    params: z.array(
      z.object({
        key: z.string(),
        values: z.record(z.string(), z.string().nullable()).describe('run id → value (null: not logged)'),
        differs: z.boolean(),
      }),
    ),
    metrics: z.array(
      z.object({
        key: z.string(),
        steps: z.array(
          z.object({
            step: z.number().int(),
            values: z.record(z.string(), metricValueSchema.nullable()).describe('run id → value at the step'),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'RunComparison' });

// ---- Governance -----------------------------------------------------------------------------------------

export const platformPoliciesSchema = z.object({
  environment: environmentSchema.describe('The environment whose configuration the platform runs with'),
  policies: z.object({
    max_gpus_per_job: z.number().int().describe('Most GPUs one job may request across its nodes'),
    max_nodes_per_job: z.number().int().describe('Most nodes one job may request'),
    default_priority: z.number().int().describe('Queue priority of a job that sets none (0-100)'),
    idempotency_ttl_hours: z.number().int().describe('How long an Idempotency-Key is remembered'),
    fit_check: z.object({
      enabled: z.boolean().describe('Jobs whose memory estimate exceeds their GPUs are refused'),
      headroom: z.number().describe('Fraction of GPU memory a job may plan to use'),
    }),
    request_body_limit_bytes: z.number().int(),
    upload_limit_bytes: z.number().int(),
  }),
});

export const INTEGRATION_CHECK_STATUSES = ['ok', 'down', 'disabled', 'not_checked'] as const;

export const integrationCheckSchema = z.object({
  status: z
    .enum(INTEGRATION_CHECK_STATUSES)
    .describe('ok/down: its address answered a connection or not; disabled: not configured; not_checked'),
  target: z.string().nullable().describe('The address checked (host:port), without credentials'),
  latencyMs: z.number().nullable(),
  error: z.string().nullable().describe('Why it is down, disabled or not checked'),
  checkedAt: iso,
});

export const integrationsSchema = z.object({
  components: z.object({
    temporal: integrationCheckSchema,
    kubernetes: integrationCheckSchema,
    huggingface_hub: integrationCheckSchema,
    dvc: integrationCheckSchema,
  }),
  features: z.array(
    z.object({
      key: z.string(),
      enabled: z.boolean(),
      system: z.string(),
    }),
  ),
});

// ---- Experiment tracking ------------------------------------------------------------------------------

const trackedMetricValue = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);

export const jobExperimentRunSchema = z
  .object({
    run_id: z.string(),
    experiment_id: z.string(),
    status: z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']),
    start_time: iso.nullable(),
    end_time: iso.nullable(),
    metrics: z.record(z.string(), trackedMetricValue).describe('Latest value per metric key, from MLflow'),
    model_version: z.string().nullable(),
    tracking_status: z.enum(TRACKING_STATUSES),
    tracking_error: z.string().nullable(),
    pending_rows: z.number().int(),
    rejected_rows: z.number().int(),
    ui_url: z.string().describe('The run in the MLflow UI'),
  })
  .meta({ id: 'JobExperimentRun' });

export const trackingBackfillRequestSchema = z
  .object({
    dry_run: z.boolean().default(false).describe('List the jobs that would be backfilled; change nothing'),
    all_projects: z
      .boolean()
      .default(false)
      .describe('Every project (organisation administrators); otherwise the selected project (admins)'),
  })
  .strict()
  .meta({ id: 'TrackingBackfillRequest' });

export const trackingBackfillResultSchema = z
  .object({
    dry_run: z.boolean(),
    jobs: z.array(
      z.object({
        job_id: z.string(),
        status: z.string(),
        rows: z.number().int().describe('Outbox rows rebuilt from the job events (0 in a dry run)'),
      }),
    ),
    rows: z.number().int(),
  })
  .meta({ id: 'TrackingBackfillResult' });
