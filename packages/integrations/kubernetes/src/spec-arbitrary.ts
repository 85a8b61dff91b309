/**
 * fast-check arbitraries for the converter tests: valid DeploymentSpecs built from the schema's enums and
 * ranges, the rule context that makes them pass the spec's own rules, and manifest contexts.
 */
import fc from 'fast-check';
import {
  JOB_TYPES,
  SERVE_TARGETS_FOR_JOB,
  type DeploymentRuleContext,
  type DeploymentSpec,
} from '@llmops/spec';
import { STORAGE_URI_SCHEMES, type ManifestContext } from './context.ts';

export const GPU = { name: 'A100', memoryGib: 80, maxPerNode: 8 } as const;
const MAX_POSITION_EMBEDDINGS = 1_048_576;

const FAMILIES = {
  llama: ['PRETRAIN', 'SFT', 'RAG_TUNING', 'RLHF'],
  mistral: ['PRETRAIN', 'SFT', 'RAG_TUNING', 'RLHF'],
  bert: ['EMBEDDING'],
} as const;

const trimmed = (max: number) =>
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: max })
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && s.length <= max);

export const deploymentSpecArb: fc.Arbitrary<DeploymentSpec> = fc
  .constantFrom(...JOB_TYPES)
  .chain((jobType) =>
    fc.record({
      model_ref: trimmed(200),
      model_family: fc.constantFrom(
        ...(Object.keys(FAMILIES) as (keyof typeof FAMILIES)[]).filter((f) =>
          (FAMILIES[f] as readonly string[]).includes(jobType),
        ),
      ),
      job_type: fc.constant(jobType),
      serve_target: fc.constantFrom(...SERVE_TARGETS_FOR_JOB[jobType]),
      use_gpu: fc.boolean(),
      runtime: fc.record({
        max_concurrent_requests: fc.integer({ min: 1, max: 100_000 }),
        max_input_tokens: fc.integer({ min: 1, max: MAX_POSITION_EMBEDDINGS }),
        max_output_tokens: fc.integer({ min: 1, max: 1_048_576 }),
      }),
      rollout: fc.oneof(
        fc.constant({ strategy: 'blue-green' as const }),
        fc
          .integer({ min: 0, max: 100 })
          .map((n) => ({ strategy: 'canary' as const, traffic_split: { old: 100 - n, new: n } })),
      ),
      gpu_memory_gb: fc.integer({ min: 0, max: GPU.memoryGib }),
      gpus_if_gpu: fc.integer({ min: 1, max: GPU.maxPerNode }),
      gpus_if_cpu: fc.integer({ min: 0, max: 64 }),
    }),
  )
  .map(({ gpu_memory_gb, gpus_if_gpu, gpus_if_cpu, ...s }) => ({
    ...s,
    resources: { gpus: s.use_gpu ? gpus_if_gpu : gpus_if_cpu, gpu_memory_gb },
  }));

/** The rule context under which `spec` is valid: its model exists, was trained as its job_type, etc. */
export function ruleContextFor(spec: DeploymentSpec): DeploymentRuleContext {
  const model = {
    id: 'model-1',
    name: spec.model_ref,
    modelFamily: spec.model_family,
    maxPositionEmbeddings: MAX_POSITION_EMBEDDINGS,
    parameterCount: 8e9,
  };
  return {
    environment: 'dev',
    families: Object.fromEntries(
      Object.entries(FAMILIES).map(([name, jobs]) => [
        name,
        { name, hfArchitectures: ['X'], allowedJobTypes: jobs },
      ]),
    ),
    gpuTypes: [{ name: GPU.name, memoryGib: GPU.memoryGib, pricePerGpuHour: 1, maxPerNode: GPU.maxPerNode }],
    policies: { maxGpusPerJob: 64, maxNodesPerJob: 4, fitCheck: { enabled: true, headroom: 0.9 } },
    lookups: {
      model,
      producingJob: { id: 'job-1', jobType: spec.job_type, modelFamily: spec.model_family },
    },
  };
}

const contextArb = fc.record({
  endpointId: fc.uuid(),
  name: fc.option(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _.-]{0,80}$/), { nil: null }),
  namespace: fc.constantFrom('kserve', 'ml-serving', 'ray-system'),
  project: fc.stringMatching(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/),
  modelVersion: fc.integer({ min: 1, max: 9999 }).map(String),
  storageUri: fc
    .tuple(fc.constantFrom(...STORAGE_URI_SCHEMES), fc.stringMatching(/^[a-z0-9][a-z0-9/_.-]{0,60}$/))
    .map(([scheme, path]) => `${scheme}://${path}`),
  image: fc.constantFrom('ghcr.io/llm-ops/serve-generation:0.1.0-gpu', 'ghcr.io/llm-ops/serve-rag:0.1.0-cpu'),
  gpuType: fc.constant({ ...GPU }),
  replicas: fc
    .tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 8 }))
    .map(([min, extra]) => ({ min, max: Math.max(1, min + extra) })),
  cpu: fc.constantFrom('1', '4', '500m', '16'),
  memory: fc.constantFrom('8Gi', '16Gi', '64Gi', '1500Mi'),
  deploymentMode: fc.constantFrom('Serverless' as const, 'RawDeployment' as const),
});

/** A DeploymentSpec with a manifest context it converts under (canaries get the Serverless mode). */
export const specAndContextArb: fc.Arbitrary<[DeploymentSpec, Required<ManifestContext>]> = fc
  .tuple(deploymentSpecArb, contextArb)
  .map(([spec, c]) => [
    spec,
    spec.rollout.strategy === 'canary' ? { ...c, deploymentMode: 'Serverless' as const } : c,
  ]);
