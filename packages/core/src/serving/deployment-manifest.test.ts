import { describe, expect, it } from 'vitest';
import { loadPlatformConfig } from '@llmops/config';
import type { DeploymentSpec } from '@llmops/spec';
import { deploymentManifest, gpuTypeFor, servingBackendFromEnv } from './deployment-manifest.ts';

const spec = (over: Partial<DeploymentSpec['resources']> = {}): DeploymentSpec => ({
  model_ref: 'llama-3-8b-sft-v1',
  model_family: 'llama',
  job_type: 'SFT',
  serve_target: 'GENERATION',
  resources: { gpus: 2, gpu_memory_gb: 24, ...over },
  runtime: { max_concurrent_requests: 16, max_input_tokens: 4096, max_output_tokens: 512 },
  rollout: { strategy: 'blue-green' },
  use_gpu: true,
});

describe('servingBackendFromEnv', () => {
  it('follows SERVING_FRAMEWORK_DEFAULT, KServe only with USE_KSERVE, local when serving is off', () => {
    expect(servingBackendFromEnv({})).toEqual({ backend: 'local', namespace: 'kserve' });
    expect(
      servingBackendFromEnv({
        SERVING_FRAMEWORK_DEFAULT: 'kserve',
        USE_KSERVE: 'true',
        KSERVE_NAMESPACE: 'ml',
      }),
    ).toEqual({ backend: 'kserve', namespace: 'ml' });
    expect(servingBackendFromEnv({ SERVING_FRAMEWORK_DEFAULT: 'kserve' }).backend).toBe('local');
    expect(servingBackendFromEnv({ SERVING_FRAMEWORK_DEFAULT: 'ray' })).toEqual({
      backend: 'ray',
      namespace: 'default',
    });
    expect(
      servingBackendFromEnv({ SERVING_FRAMEWORK_DEFAULT: 'ray', SERVING_FRAMEWORK_ENABLED: 'false' }).backend,
    ).toBe('local');
    expect(() => servingBackendFromEnv({ SERVING_FRAMEWORK_DEFAULT: 'triton' })).toThrow();
  });
});

describe('gpuTypeFor', () => {
  const config = loadPlatformConfig({ environment: 'dev' });

  it('picks the smallest, then cheapest, type with the memory and enough GPUs per node', () => {
    // dev: T4 16 GiB ×4, A10G 24 GiB ×8 ($1.01), L4 24 GiB ×8 ($0.80), A100 80 GiB ×8.
    expect(gpuTypeFor(config, 'dev', spec())?.name).toBe('L4');
    expect(gpuTypeFor(config, 'dev', spec({ gpu_memory_gb: 8 }))?.name).toBe('T4');
    expect(gpuTypeFor(config, 'dev', spec({ gpu_memory_gb: 8, gpus: 6 }))?.name).toBe('L4');
    expect(gpuTypeFor(config, 'dev', spec({ gpu_memory_gb: 40 }))?.name).toBe('A100');
    expect(gpuTypeFor(config, 'dev', spec({ gpu_memory_gb: 200 }))).toBeNull();
  });

  it('leaves a count no node holds to the converter, which names the field', () => {
    const gpuType = gpuTypeFor(config, 'dev', spec({ gpus: 12 }));
    expect(gpuType?.maxPerNode).toBe(8);
    const d = deploymentManifest('kserve', spec({ gpus: 12 }), {
      endpointId: 'e1',
      namespace: 'kserve',
      project: 'p',
      modelVersion: '1',
      storageUri: 's3://m/1',
      image: 'img:1',
      gpuType,
    });
    expect(d).toMatchObject({
      backend: 'kserve',
      kind: 'InferenceService',
      manifest: null,
      error: { code: 'GPU_COUNT_EXCEEDS_GPU_TYPE', field: 'deploymentSpec.resources.gpus' },
    });
  });

  it('local has no manifest', () => {
    expect(deploymentManifest('local', spec(), {} as never)).toEqual({
      backend: 'local',
      kind: null,
      manifest: null,
      error: null,
    });
  });
});
