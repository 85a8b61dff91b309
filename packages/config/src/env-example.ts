import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { envSchema, SECRET_ENV_VARS } from './env.ts';
import type { EnvVarName } from './env.ts';

/** Groups of `.env.example`, in order. Every variable of envSchema belongs to exactly one. */
export const ENV_SECTIONS: readonly { readonly title: string; readonly names: readonly EnvVarName[] }[] = [
  {
    title: 'Server and storage',
    names: [
      'PORT',
      'HOST',
      'LLMOPS_HOME',
      'LLMOPS_CONFIG_DIR',
      'LLMOPS_CONSOLE_DIR',
      'ENVIRONMENT',
      'LOG_LEVEL',
      'LLMOPS_GPU_PREFERENCE',
      'DATABASE_URL',
      'DATABASE_URL_FILE',
      'LLMOPS_BOOTSTRAP_TOKEN',
      'LLMOPS_BOOTSTRAP_TOKEN_FILE',
    ],
  },
  {
    title: 'Job execution (Temporal and the local executor)',
    names: [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'LLMOPS_MAX_CONCURRENT_RUNS',
      'LLMOPS_PLATFORM_HEAP_MB',
      'LLMOPS_RUN_WORKER',
      'LLMOPS_SYNTHETIC_RUNS',
    ],
  },
  {
    title: 'Integration feature flags (quickstart.md §3.1)',
    names: [
      'EXPERIMENT_TRACKING_ENABLED',
      'EXPERIMENT_TRACKING_SYSTEM',
      'SERVING_FRAMEWORK_ENABLED',
      'SERVING_FRAMEWORK_DEFAULT',
      'SERVING_LOCAL_THREADS',
      'WORKFLOW_ORCHESTRATION_ENABLED',
      'WORKFLOW_ORCHESTRATION_SYSTEM',
      'MODEL_REGISTRY_ENABLED',
      'MODEL_REGISTRY_DEFAULT',
      'DATA_VERSIONING_ENABLED',
      'DATA_VERSIONING_SYSTEM',
    ],
  },
  {
    title: 'Integration endpoints (quickstart.md §2)',
    names: [
      'MLFLOW_TRACKING_URI',
      'MLFLOW_ENABLED',
      'USE_KSERVE',
      'KSERVE_NAMESPACE',
      'ARGO_WORKFLOWS_ENABLED',
      'ARGO_WORKFLOWS_NAMESPACE',
      'ARGO_WORKFLOWS_CONTROLLER_SERVICE',
      'HUGGINGFACE_HUB_ENABLED',
      'HUGGINGFACE_HUB_TOKEN',
      'HUGGINGFACE_HUB_TOKEN_FILE',
      'HF_ENDPOINT',
      'DVC_ENABLED',
      'DVC_REMOTE_URL',
    ],
  },
  {
    title: 'Kubernetes API (KServe and Ray Serve backends)',
    names: [
      'KUBERNETES_API_URL',
      'KUBERNETES_TOKEN',
      'KUBERNETES_TOKEN_FILE',
      'KUBERNETES_CA_FILE',
      'KUBECONFIG',
      'KUBERNETES_CONTEXT',
    ],
  },
];

export const ENV_EXAMPLE_PATH = fileURLToPath(new URL('../../../.env.example', import.meta.url));

interface PropertyDoc {
  readonly description?: string;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
}

/** The text of `.env.example`, derived from envSchema so the two cannot drift apart. */
export function renderEnvExample(): string {
  const names = Object.keys(envSchema.shape);
  const grouped = ENV_SECTIONS.flatMap((section) => section.names);
  const missing = names.filter((name) => !grouped.includes(name as EnvVarName));
  if (missing.length > 0) throw new Error(`ENV_SECTIONS does not place: ${missing.join(', ')}`);

  const json = z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, PropertyDoc>;
  };
  const lines = [
    '# Environment variables of the LLM Ops Platform.',
    '# Generated from packages/config/src/env.ts; regenerate with',
    '#   npx tsx packages/config/src/write-env-example.ts',
    '# Every variable is optional. A commented line shows the default; an empty value means "not set".',
    `# Secrets (${SECRET_ENV_VARS.join(', ')}) may instead be given as <NAME>_FILE, a file holding the value.`,
    '# Booleans accept true/false, 1/0 or yes/no.',
  ];
  for (const section of ENV_SECTIONS) {
    lines.push('', `## ${section.title}`);
    for (const name of section.names) {
      const doc = json.properties[name] ?? {};
      const choices = doc.enum && doc.enum.length > 1 ? ` One of: ${doc.enum.join(', ')}.` : '';
      lines.push(
        '',
        `# ${doc.description ?? ''}${choices}`,
        `# ${name}=${doc.default === undefined ? '' : String(doc.default)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
