import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDeploymentSpec, type DeploymentSpec } from '@llmops/spec';
import type { ManifestContext } from './context.ts';
import { CRD_FILES, formatCrdErrors, validateAgainstCrd } from './crd.ts';
import { ConversionError } from './errors.ts';
import { fromRayService, toRayService } from './ray.ts';
import { GPU, ruleContextFor, specAndContextArb } from './spec-arbitrary.ts';

const spec = (): DeploymentSpec => ({
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
  endpointId: 'ep-7',
  name: null,
  namespace: 'ray-system',
  project: 'default',
  modelVersion: '3',
  storageUri: 's3://models/llama-3-8b-sft-v1/3',
  image: 'ghcr.io/llm-ops/serve-generation:0.1.0-gpu',
  gpuType: { ...GPU },
  replicas: { min: 0, max: 2 },
  ...over,
});

beforeAll(() => {
  validateAgainstCrd({}, CRD_FILES.rayService);
}, 120_000);

describe('toRayService', () => {
  it('builds a Ray Serve LLM app and a cluster whose workers carry the GPUs', () => {
    const rs = toRayService(spec(), ctx());
    expect(rs.apiVersion).toBe('ray.io/v1');
    expect(rs.kind).toBe('RayService');
    expect(rs.metadata.name).toBe('ep-7');
    expect(rs.metadata.annotations['llmops/traffic-split']).toBe('90/10');
    const serve = parse(rs.spec.serveConfigV2);
    const app = serve.applications[0];
    expect(app.import_path).toBe('ray.serve.llm:build_openai_app');
    const llm = app.args.llm_configs[0];
    expect(llm.model_loading_config).toEqual({
      model_id: 'ep-7',
      model_source: 's3://models/llama-3-8b-sft-v1/3',
    });
    expect(llm.deployment_config.autoscaling_config).toEqual({
      min_replicas: 0,
      max_replicas: 2,
      target_ongoing_requests: 128,
    });
    expect(llm.engine_kwargs).toEqual({ max_model_len: 5120, tensor_parallel_size: 2 });
    expect(app.runtime_env.env_vars).toEqual({
      LLMOPS_MAX_CONCURRENT_REQUESTS: '256',
      LLMOPS_MAX_INPUT_TOKENS: '4096',
      LLMOPS_MAX_OUTPUT_TOKENS: '1024',
    });
    const wg = rs.spec.rayClusterConfig.workerGroupSpecs[0]!;
    expect(wg).toMatchObject({ minReplicas: 0, maxReplicas: 2, replicas: 0 });
    expect(wg.template.spec.containers[0]!.resources.limits['nvidia.com/gpu']).toBe('2');
    expect(wg.template.spec.containers[0]!.image).toBe('ghcr.io/llm-ops/serve-generation:0.1.0-gpu');
    const head = rs.spec.rayClusterConfig.headGroupSpec.template.spec.containers[0]!;
    expect(head.resources.limits['nvidia.com/gpu']).toBeUndefined();
    const v = validateAgainstCrd(rs, CRD_FILES.rayService);
    expect(v.valid, formatCrdErrors(v)).toBe(true);
  });

  it('round-trips every valid DeploymentSpec, and every manifest passes the RayService CRD schema', () => {
    fc.assert(
      fc.property(specAndContextArb, ([s, c]) => {
        expect(checkDeploymentSpec(s, ruleContextFor(s))).toEqual([]);
        const rs = toRayService(s, c);
        const v = validateAgainstCrd(rs, CRD_FILES.rayService);
        expect(v.valid, formatCrdErrors(v)).toBe(true);
        const back = fromRayService(JSON.parse(JSON.stringify(rs)));
        expect(back.spec).toEqual(s);
        const gpus = s.use_gpu ? s.resources.gpus : 0;
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
        });
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('rejects bad input naming the field', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        if (e instanceof ConversionError) return e;
        throw e;
      }
      throw new Error('expected a ConversionError');
    };
    expect(err(() => toRayService(spec(), ctx({ storageUri: null }))).field).toBe('storageUri');
    expect(
      err(() => toRayService({ ...spec(), resources: { gpus: 16, gpu_memory_gb: 40 } }, ctx())).code,
    ).toBe('GPU_COUNT_EXCEEDS_GPU_TYPE');
    expect(err(() => toRayService(spec(), ctx({ endpointId: '---' }))).field).toBe('endpointId');
    const broken = JSON.parse(JSON.stringify(toRayService(spec(), ctx())));
    broken.spec.serveConfigV2 = 'applications: [';
    expect(err(() => fromRayService(broken)).field).toBe('spec.serveConfigV2');
    const noEnv = JSON.parse(JSON.stringify(toRayService(spec(), ctx())));
    const serve = parse(noEnv.spec.serveConfigV2);
    delete serve.applications[0].runtime_env.env_vars.LLMOPS_MAX_INPUT_TOKENS;
    noEnv.spec.serveConfigV2 = JSON.stringify(serve);
    expect(err(() => fromRayService(noEnv)).field).toBe(
      'spec.serveConfigV2.applications[0].runtime_env.env_vars.LLMOPS_MAX_INPUT_TOKENS',
    );
  });
});
