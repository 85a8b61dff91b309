import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ENVIRONMENTS, GPU_PREFERENCES } from '@llmops/spec';
import { ConfigError } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { flattenIssues, requiredErrorMap } from './issues.ts';
import { formatPath } from './merge.ts';
import {
  choice,
  directory,
  flag,
  integer,
  namespace,
  optionalDirectory,
  text,
  textWithDefault,
  url,
  urlWithDefault,
} from './env-fields.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Environment variables of the platform processes. Names of the integration flags and endpoints are
 * those of quickstart.md §2–§3.1. Endpoints and flags here override nothing in config/platform.yaml:
 * the file holds images, GPU types and policies, the environment holds where things are and what is on.
 */
export const envSchema = z.object({
  PORT: integer(8000, 1, 65535, 'TCP port of the HTTP API and console.'),
  HOST: textWithDefault(
    '127.0.0.1',
    'Interface the HTTP server binds to; 0.0.0.0 exposes it to the network.',
  ),
  LLMOPS_HOME: directory(
    './.llmops',
    'Data directory of the embedded mode, resolved against the working directory.',
  ),
  LLMOPS_CONSOLE_DIR: optionalDirectory(
    'Directory of the built web console served at `/`; default: apps/web/dist of the install (built by `llmops up`).',
  ),
  LLMOPS_CONFIG_DIR: optionalDirectory(
    'Directory holding platform.yaml and its overlays; default: config/ of the install.',
  ),
  ENVIRONMENT: choice(ENVIRONMENTS, 'dev', 'Deployment environment; selects config/platform.<env>.yaml.'),
  LOG_LEVEL: choice(LOG_LEVELS, 'info', 'Least severe log level that is written.'),
  LLMOPS_GPU_PREFERENCE: choice(
    GPU_PREFERENCES,
    'auto',
    'Image variant policy: auto uses GPU images only when a GPU is detected; gpu or cpu forces one.',
  ),
  DATABASE_URL: url(
    ['postgres', 'postgresql'],
    'PostgreSQL URL; absent: embedded PGlite under LLMOPS_HOME/db.',
    {
      secret: true,
    },
  ),
  DATABASE_URL_FILE: text('File whose content is DATABASE_URL (for mounted secrets).'),
  LLMOPS_BOOTSTRAP_TOKEN: text('Secret token that signs in the first administrator of a new installation.'),
  LLMOPS_BOOTSTRAP_TOKEN_FILE: text('File whose content is LLMOPS_BOOTSTRAP_TOKEN.'),

  TEMPORAL_ADDRESS: text(
    'Temporal front end (host:port) that runs training jobs; `llmops up` starts a local dev server and sets it. Absent: jobs are stored but not run.',
  ),
  TEMPORAL_NAMESPACE: textWithDefault('default', 'Temporal namespace of the platform workflows.'),
  LLMOPS_MAX_CONCURRENT_RUNS: integer(
    2,
    1,
    1000,
    'Training runs admitted at once by this worker (local executor).',
  ),
  LLMOPS_PLATFORM_HEAP_MB: integer(
    384,
    128,
    65_536,
    'Heap limit (MiB) of each JavaScript heap of the platform process (API, worker, workflow thread); `llmops up` starts the platform with it. V8 grows an unbounded heap lazily, so without a limit an idle-looking process holds hundreds of MiB it does not need.',
  ),
  LLMOPS_RUN_WORKER: flag(true, 'Run the Temporal worker inside the platform process (embedded mode).'),
  LLMOPS_SYNTHETIC_RUNS: z
    .string()
    .regex(/^\d+x\d+(@\d+)?$/, 'expected <steps>x<step_ms>[@<checkpoint every n steps>], e.g. 300x100@10')
    .optional()
    .describe(
      "Load tests only: every job runs the runtime's synthetic mode (no ML library) as <steps>x<step_ms>[@<checkpoint every n steps>], e.g. 300x100@10; absent: jobs train.",
    ),

  EXPERIMENT_TRACKING_ENABLED: flag(true, 'Record runs, metrics and artifacts in the experiment tracker.'),
  EXPERIMENT_TRACKING_SYSTEM: choice(['mlflow'], 'mlflow', 'Experiment tracking system.'),
  SERVING_FRAMEWORK_ENABLED: flag(true, 'Deploy endpoints through a serving framework.'),
  SERVING_FRAMEWORK_DEFAULT: choice(
    ['kserve', 'local', 'ray'],
    'local',
    'Serving backend for new endpoints: local model server, KServe or Ray Serve.',
  ),
  SERVING_LOCAL_THREADS: integer(
    0,
    0,
    1024,
    'torch CPU threads of each local model server replica; 0: all cores but one (at least one), so the platform keeps a core.',
  ),
  WORKFLOW_ORCHESTRATION_ENABLED: flag(true, 'Run multi-stage pipelines through the orchestration system.'),
  WORKFLOW_ORCHESTRATION_SYSTEM: choice(
    ['argo_workflows', 'temporal'],
    'temporal',
    'Where pipeline stages run: Temporal workflows with the local executor, or Argo Workflows on Kubernetes.',
  ),
  MODEL_REGISTRY_ENABLED: flag(true, 'Import and export models through an external model registry.'),
  MODEL_REGISTRY_DEFAULT: choice(['huggingface'], 'huggingface', 'External model registry.'),
  DATA_VERSIONING_ENABLED: flag(true, 'Version datasets with the data versioning system.'),
  DATA_VERSIONING_SYSTEM: choice(['dvc'], 'dvc', 'Data versioning system.'),

  MLFLOW_TRACKING_URI: urlWithDefault(
    ['http', 'https'],
    'http://127.0.0.1:5000',
    'MLflow tracking server the platform reports to.',
  ),
  MLFLOW_ENABLED: flag(true, 'MLflow may be used; must stay true while it is the tracking system in use.'),
  USE_KSERVE: flag(
    false,
    'KServe may be used for endpoints; required when SERVING_FRAMEWORK_DEFAULT=kserve.',
  ),
  KSERVE_NAMESPACE: namespace('kserve', 'Kubernetes namespace of the InferenceServices.'),
  KUBERNETES_API_URL: url(
    ['http', 'https'],
    'Kubernetes API server the KServe and Ray Serve backends talk to, with KUBERNETES_TOKEN; absent: KUBECONFIG, else the in-cluster service account.',
  ),
  KUBERNETES_TOKEN: text('Bearer token for KUBERNETES_API_URL (a service account token).'),
  KUBERNETES_TOKEN_FILE: text('File whose content is KUBERNETES_TOKEN.'),
  KUBERNETES_CA_FILE: text(
    'PEM file of the CA that signed the certificate of KUBERNETES_API_URL; absent: the system CAs.',
  ),
  KUBECONFIG: text('kubeconfig file used when KUBERNETES_API_URL is absent.'),
  KUBERNETES_CONTEXT: text('Context of KUBECONFIG to use; absent: its current context.'),
  ARGO_WORKFLOWS_ENABLED: flag(
    false,
    'Argo Workflows may be used; required when it is the orchestration system.',
  ),
  ARGO_WORKFLOWS_NAMESPACE: namespace('argo', 'Kubernetes namespace the Workflows are created in.'),
  ARGO_WORKFLOWS_CONTROLLER_SERVICE: text('Argo server address (host:port) for status and logs.'),
  HUGGINGFACE_HUB_ENABLED: flag(true, 'The Hugging Face Hub may be used for model import and export.'),
  HUGGINGFACE_HUB_TOKEN: text('Hub access token for private or gated repositories.'),
  HUGGINGFACE_HUB_TOKEN_FILE: text('File whose content is HUGGINGFACE_HUB_TOKEN.'),
  HF_ENDPOINT: url(
    ['http', 'https'],
    'Hub-compatible endpoint (mirror or air-gapped server); absent: the public Hub.',
  ),
  DVC_ENABLED: flag(true, 'DVC may be used; must stay true while it is the data versioning system in use.'),
  DVC_REMOTE_URL: text('DVC remote for dataset versions, for example s3://datasets-dvc.'),
});

export type PlatformEnv = z.output<typeof envSchema>;
export type EnvVarName = keyof typeof envSchema.shape;

/** Secrets that may also be given as `<NAME>_FILE`, the path of a file holding the value. */
export const SECRET_ENV_VARS = [
  'DATABASE_URL',
  'LLMOPS_BOOTSTRAP_TOKEN',
  'HUGGINGFACE_HUB_TOKEN',
  'KUBERNETES_TOKEN',
] as const;

/** Parses the process environment once at boot; throws ConfigError naming every bad variable. */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): PlatformEnv {
  // An empty assignment (`PORT=` in a .env file or compose file) means "not set", not "set to empty".
  const input: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') input[name] = value;

  const issues = resolveSecretFiles(input);
  const result = envSchema.safeParse(input, { error: requiredErrorMap });
  if (result.success) issues.push(...crossCheck(result.data));
  else {
    for (const issue of flattenIssues(envSchema, result.error.issues)) {
      issues.push({ location: formatPath(issue.path), message: issue.message });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze(result.data as PlatformEnv);
}

function resolveSecretFiles(input: Record<string, string>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const name of SECRET_ENV_VARS) {
    const fileVar = `${name}_FILE`;
    const path = input[fileVar];
    if (path === undefined) continue;
    if (input[name] !== undefined) {
      issues.push({ location: fileVar, message: `set either ${name} or ${fileVar}, not both` });
      continue;
    }
    try {
      // Secret files usually end with a newline the value never contains.
      const value = readFileSync(path, 'utf8').trim();
      if (value === '') issues.push({ location: fileVar, message: `file "${path}" is empty` });
      else input[name] = value;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      issues.push({ location: fileVar, message: `cannot read file "${path}" (${code})` });
    }
  }
  return issues;
}

// The generic flag turns an integration on; the tool flag says the tool may be used. A generic flag that
// selects a tool whose own flag is off is a contradiction worth stopping for, not a silent fallback.
function crossCheck(env: PlatformEnv): ConfigIssue[] {
  const rules: [boolean, string, string][] = [
    [
      env.EXPERIMENT_TRACKING_ENABLED && env.EXPERIMENT_TRACKING_SYSTEM === 'mlflow' && !env.MLFLOW_ENABLED,
      'MLFLOW_ENABLED',
      'is false but EXPERIMENT_TRACKING_ENABLED=true selects mlflow; set EXPERIMENT_TRACKING_ENABLED=false to turn tracking off',
    ],
    [
      env.SERVING_FRAMEWORK_ENABLED && env.SERVING_FRAMEWORK_DEFAULT === 'kserve' && !env.USE_KSERVE,
      'USE_KSERVE',
      'is false but SERVING_FRAMEWORK_DEFAULT=kserve; set USE_KSERVE=true or choose another SERVING_FRAMEWORK_DEFAULT',
    ],
    [
      env.KUBERNETES_TOKEN !== undefined && env.KUBERNETES_API_URL === undefined,
      'KUBERNETES_TOKEN',
      'is set but KUBERNETES_API_URL is not; the token is only sent to an explicit API server URL',
    ],
    [
      env.KUBERNETES_CA_FILE !== undefined && env.KUBERNETES_API_URL === undefined,
      'KUBERNETES_CA_FILE',
      'is set but KUBERNETES_API_URL is not; set the URL of the API server the CA signed',
    ],
    [
      env.WORKFLOW_ORCHESTRATION_ENABLED &&
        env.WORKFLOW_ORCHESTRATION_SYSTEM === 'argo_workflows' &&
        !env.ARGO_WORKFLOWS_ENABLED,
      'ARGO_WORKFLOWS_ENABLED',
      'is false but WORKFLOW_ORCHESTRATION_SYSTEM=argo_workflows; set ARGO_WORKFLOWS_ENABLED=true or choose temporal',
    ],
    [
      env.MODEL_REGISTRY_ENABLED &&
        env.MODEL_REGISTRY_DEFAULT === 'huggingface' &&
        !env.HUGGINGFACE_HUB_ENABLED,
      'HUGGINGFACE_HUB_ENABLED',
      'is false but MODEL_REGISTRY_DEFAULT=huggingface; set MODEL_REGISTRY_ENABLED=false to turn the registry off',
    ],
    [
      env.DATA_VERSIONING_ENABLED && env.DATA_VERSIONING_SYSTEM === 'dvc' && !env.DVC_ENABLED,
      'DVC_ENABLED',
      'is false but DATA_VERSIONING_SYSTEM=dvc; set DATA_VERSIONING_ENABLED=false to turn data versioning off',
    ],
  ];
  return rules.filter(([broken]) => broken).map(([, location, message]) => ({ location, message }));
}

/**
 * Node.js arguments the platform process is started with (its heap limit). Only this variable is read:
 * anything else wrong in the environment is for the platform itself to report.
 */
export function platformNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.LLMOPS_PLATFORM_HEAP_MB;
  const field = envSchema.shape.LLMOPS_PLATFORM_HEAP_MB;
  const r = field.safeParse(raw === '' ? undefined : raw);
  if (!r.success)
    throw new ConfigError([
      { location: 'LLMOPS_PLATFORM_HEAP_MB', message: r.error.issues[0]?.message ?? 'invalid value' },
    ]);
  return [`--max-old-space-size=${r.data}`];
}
