import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDeploymentSpec, deploymentSpecSchema, type DeploymentSpec } from '@llmops/spec';
import { CRD_FILES, formatCrdErrors, validateAgainstCrd } from './crd.ts';
import type { ManifestContext } from './context.ts';
import { ConversionError } from './errors.ts';
import { fromInferenceService, toInferenceService } from './kserve.ts';
import { GPU, ruleContextFor, specAndContextArb } from './spec-arbitrary.ts';

const quickstart = (): DeploymentSpec => ({
  model_ref: 'llama-3-8b-sft-v1',
  model_family: 'llama',
  job_type: 'SFT',
  serve_target: 'GENERATION',
  resources: { gpus: 2, gpu_memory_gb: 80 },
  runtime: { max_concurrent_requests: 256, max_input_tokens: 4096, max_output_tokens: 1024 },
  rollout: { strategy: 'canary', traffic_split: { old: 90, new: 10 } },
  use_gpu: true,
});

const ctx = (over: Partial<ManifestContext> = {}): ManifestContext => ({
  endpointId: '0b7c1e9e-3f4a-4a57-9a53-2f0d1c6c1a11',
  name: 'Chat (prod)',
  namespace: 'kserve',
  project: 'default',
  modelVersion: '3',
  storageUri: 's3://models/llama-3-8b-sft-v1/3',
  image: 'ghcr.io/llm-ops/serve-generation:0.1.0-gpu',
  gpuType: { ...GPU },
  replicas: { min: 1, max: 4 },
  ...over,
});

function conversionError(fn: () => unknown): ConversionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConversionError) return e;
    throw e;
  }
  throw new Error('expected a ConversionError');
}

// Compiling a 1-2 MB CRD schema takes seconds; do it once before the tests run.
beforeAll(() => {
  validateAgainstCrd({}, CRD_FILES.inferenceService);
  validateAgainstCrd({}, CRD_FILES.inferenceServiceV0_20);
}, 120_000);

describe('toInferenceService', () => {
  it('maps the quickstart DeploymentSpec field by field', () => {
    const isvc = toInferenceService(quickstart(), ctx());
    expect(isvc.apiVersion).toBe('serving.kserve.io/v1beta1');
    expect(isvc.kind).toBe('InferenceService');
    expect(isvc.metadata.name).toBe('chat-prod');
    expect(isvc.metadata.namespace).toBe('kserve');
    expect(isvc.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'llmops',
      'llmops/endpoint-id': '0b7c1e9e-3f4a-4a57-9a53-2f0d1c6c1a11',
      'llmops/project': 'default',
      'llmops/model-version': '3',
    });
    expect(isvc.metadata.annotations).toMatchObject({
      'serving.kserve.io/deploymentMode': 'Serverless',
      'llmops/model-ref': 'llama-3-8b-sft-v1',
      'llmops/gpu-type': 'A100',
    });
    const p = isvc.spec.predictor;
    expect(p).toMatchObject({
      minReplicas: 1,
      maxReplicas: 4,
      scaleMetric: 'concurrency',
      scaleTarget: 64,
      canaryTrafficPercent: 10,
    });
    expect(p.model.modelFormat).toEqual({ name: 'huggingface' });
    expect(p.model.runtime).toBe('kserve-huggingfaceserver');
    expect(p.model.image).toBe('ghcr.io/llm-ops/serve-generation:0.1.0-gpu');
    expect(p.model.storageUri).toBe('s3://models/llama-3-8b-sft-v1/3');
    expect(p.model.resources.limits).toEqual({ cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '2' });
    expect(p.model.args).toEqual([
      '--model_name=chat-prod',
      '--max_model_len=5120',
      '--tensor-parallel-size=2',
    ]);
    expect(p.model.env).toEqual([
      { name: 'LLMOPS_MAX_CONCURRENT_REQUESTS', value: '256' },
      { name: 'LLMOPS_MAX_INPUT_TOKENS', value: '4096' },
      { name: 'LLMOPS_MAX_OUTPUT_TOKENS', value: '1024' },
    ]);
  });

  it('gives blue-green RawDeployment without a canary field and CPU-only specs no GPU', () => {
    const spec: DeploymentSpec = { ...quickstart(), rollout: { strategy: 'blue-green' }, use_gpu: false };
    const isvc = toInferenceService(spec, ctx());
    expect(isvc.metadata.annotations['serving.kserve.io/deploymentMode']).toBe('RawDeployment');
    expect(isvc.spec.predictor.canaryTrafficPercent).toBeUndefined();
    expect(isvc.spec.predictor.model.resources.requests).toEqual({ cpu: '4', memory: '16Gi' });
    expect(fromInferenceService(isvc).spec).toEqual(spec);
  });

  it('is deterministic and passes both KServe CRD schemas (v0.15.2 and v0.20.0)', () => {
    const a = toInferenceService(quickstart(), ctx());
    expect(toInferenceService(quickstart(), ctx())).toEqual(a);
    for (const crd of [CRD_FILES.inferenceService, CRD_FILES.inferenceServiceV0_20]) {
      const v = validateAgainstCrd(a, crd);
      expect(v.valid, formatCrdErrors(v)).toBe(true);
    }
  });

  it('round-trips every valid DeploymentSpec, and every manifest passes the CRD schema', () => {
    fc.assert(
      fc.property(specAndContextArb, ([spec, c]) => {
        // The generator only makes specs the platform itself accepts.
        expect(deploymentSpecSchema.parse(spec)).toEqual(spec);
        expect(checkDeploymentSpec(spec, ruleContextFor(spec))).toEqual([]);
        const isvc = toInferenceService(spec, c);
        const v = validateAgainstCrd(isvc, CRD_FILES.inferenceService);
        expect(v.valid, formatCrdErrors(v)).toBe(true);
        const back = fromInferenceService(JSON.parse(JSON.stringify(isvc)));
        expect(back.spec).toEqual(spec);
        const gpus = spec.use_gpu ? spec.resources.gpus : 0;
        expect(back.context).toEqual({
          endpointId: c.endpointId,
          name: c.name,
          namespace: c.namespace,
          project: c.project,
          modelVersion: c.modelVersion,
          storageUri: c.storageUri,
          image: c.image,
          gpuType: gpus > 0 ? GPU.name : null,
          replicas: c.replicas,
          cpu: c.cpu,
          memory: c.memory,
          deploymentMode: c.deploymentMode,
        });
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});

describe('conversion errors name the field', () => {
  it.each<[string, () => unknown, string, string]>([
    [
      'a model version without storage URI',
      () => toInferenceService(quickstart(), ctx({ storageUri: null })),
      'STORAGE_URI_MISSING',
      'storageUri',
    ],
    [
      'a storage URI KServe cannot download',
      () => toInferenceService(quickstart(), ctx({ storageUri: 'runs:/abc/model' })),
      'STORAGE_URI_UNSUPPORTED',
      'storageUri',
    ],
    [
      'more GPUs than a node of the GPU type has',
      () => toInferenceService({ ...quickstart(), resources: { gpus: 9, gpu_memory_gb: 80 } }, ctx()),
      'GPU_COUNT_EXCEEDS_GPU_TYPE',
      'deploymentSpec.resources.gpus',
    ],
    [
      'more GPU memory than the GPU type has',
      () => toInferenceService(quickstart(), ctx({ gpuType: { name: 'T4', memoryGib: 16, maxPerNode: 4 } })),
      'GPU_MEMORY_EXCEEDS_GPU_TYPE',
      'deploymentSpec.resources.gpu_memory_gb',
    ],
    [
      'GPUs without a GPU type',
      () => toInferenceService(quickstart(), ctx({ gpuType: null })),
      'GPU_TYPE_MISSING',
      'deploymentSpec.resources.gpus',
    ],
    [
      'a name that cannot become DNS-1035',
      () => toInferenceService(quickstart(), ctx({ name: '日本語 !!' })),
      'NAME_NOT_DNS_1035',
      'name',
    ],
    [
      'a canary in RawDeployment mode',
      () => toInferenceService(quickstart(), ctx({ deploymentMode: 'RawDeployment' })),
      'DEPLOYMENT_MODE_UNSUPPORTED',
      'deploymentSpec.rollout.strategy',
    ],
    [
      'replicas min above max',
      () => toInferenceService(quickstart(), ctx({ replicas: { min: 3, max: 2 } })),
      'CONTEXT_INVALID',
      'replicas',
    ],
  ])('%s', (_what, fn, code, field) => {
    const e = conversionError(fn);
    expect(e.code).toBe(code);
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
  });

  it('reading back a manifest that lost a field names its path', () => {
    const isvc = JSON.parse(JSON.stringify(toInferenceService(quickstart(), ctx())));
    delete isvc.spec.predictor.model.env[1];
    isvc.spec.predictor.model.env = isvc.spec.predictor.model.env.filter(Boolean);
    expect(conversionError(() => fromInferenceService(isvc)).field).toBe('spec.predictor.model.env');
    const wrongKind = { ...toInferenceService(quickstart(), ctx()), kind: 'RayService' };
    expect(conversionError(() => fromInferenceService(wrongKind)).field).toBe('apiVersion');
    const badCanary = JSON.parse(JSON.stringify(toInferenceService(quickstart(), ctx())));
    badCanary.spec.predictor.canaryTrafficPercent = 150;
    const e = conversionError(() => fromInferenceService(badCanary));
    expect(e.field).toMatch(/^deploymentSpec\.rollout\.traffic_split/);
  });
});
