import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentSpec } from '@llmops/spec';
import { CRD_FILES, validateAgainstCrd } from './crd.ts';
import { toInferenceService } from './kserve.ts';

const spec: DeploymentSpec = {
  model_ref: 'm',
  model_family: 'llama',
  job_type: 'SFT',
  serve_target: 'GENERATION',
  resources: { gpus: 1, gpu_memory_gb: 24 },
  runtime: { max_concurrent_requests: 8, max_input_tokens: 1024, max_output_tokens: 256 },
  rollout: { strategy: 'blue-green' },
  use_gpu: true,
};
const good = () =>
  JSON.parse(
    JSON.stringify(
      toInferenceService(spec, {
        endpointId: 'ep-1',
        namespace: 'kserve',
        project: 'p',
        modelVersion: '1',
        storageUri: 'hf://org/model',
        image: 'img:1',
        gpuType: { name: 'L4', memoryGib: 24, maxPerNode: 8 },
      }),
    ),
  );

beforeAll(() => {
  validateAgainstCrd({}, CRD_FILES.inferenceService);
}, 120_000);

describe('validateAgainstCrd', () => {
  it('accepts a generated manifest, integer quantities included (x-kubernetes-int-or-string)', () => {
    const m = good();
    m.spec.predictor.model.resources.limits.cpu = 4;
    expect(validateAgainstCrd(m, CRD_FILES.inferenceService)).toEqual({ valid: true, errors: [] });
  });

  it('reports a wrong type with its path', () => {
    const m = good();
    m.spec.predictor.minReplicas = 'one';
    m.spec.predictor.model.args = '--x';
    const v = validateAgainstCrd(m, CRD_FILES.inferenceService);
    expect(v.valid).toBe(false);
    expect(v.errors).toEqual(
      expect.arrayContaining([
        { path: 'spec.predictor.minReplicas', message: 'must be integer' },
        { path: 'spec.predictor.model.args', message: 'must be array' },
      ]),
    );
  });

  it('reports an unknown apiVersion and kind', () => {
    const v = validateAgainstCrd(
      { ...good(), apiVersion: 'serving.kserve.io/v2', kind: 'Service' },
      CRD_FILES.inferenceService,
    );
    expect(v.errors.map((e) => e.path)).toEqual(['apiVersion', 'kind']);
    expect(v.errors[0]!.message).toContain('serving.kserve.io/v1beta1');
  });

  it('reports missing required fields, undeclared fields and a bad name', () => {
    const m = good();
    delete m.spec.predictor;
    m.spec.predictr = {};
    m.metadata.name = 'Not_DNS';
    const v = validateAgainstCrd(m, CRD_FILES.inferenceService);
    expect(v.errors).toEqual(
      expect.arrayContaining([
        { path: 'spec.predictor', message: 'required field is missing' },
        { path: 'spec.predictr', message: 'field is not defined by the CRD schema' },
        { path: 'metadata.name', message: "'Not_DNS' is not a DNS-1035 label" },
      ]),
    );
    const quantity = good();
    quantity.spec.predictor.model.resources.limits['nvidia.com/gpu'] = 'two';
    expect(validateAgainstCrd(quantity, CRD_FILES.inferenceService).errors[0]!.path).toBe(
      'spec.predictor.model.resources.limits["nvidia.com/gpu"]',
    );
  });

  it('ships the CRDs byte for byte as released (sha256 of the decompressed file)', () => {
    const sha = (p: string) =>
      createHash('sha256')
        .update(gunzipSync(readFileSync(p)))
        .digest('hex');
    expect(sha(CRD_FILES.inferenceService)).toBe(
      '43bcb3aef9c6308135ef122f48800230058b710eae98c26ff03da29940525e4e',
    );
    expect(sha(CRD_FILES.inferenceServiceV0_20)).toBe(
      '57c3bf13f77de94678bf2ae3748056ec071ad2b9e88d6a28f44fb4710758fcff',
    );
    expect(sha(CRD_FILES.rayService)).toBe(
      '0a8fc325e6e22b9231c1f282b309555e2ecf94227ca20a03df3d1d9a403907ab',
    );
  });
});
