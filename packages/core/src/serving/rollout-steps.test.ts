import { describe, expect, it } from 'vitest';
import type { DeploymentSpec } from '@llmops/spec';
import { rolloutSteps } from './rollout.service.ts';

const spec = (split?: { old: number; new: number }): DeploymentSpec => ({
  model_ref: 'm',
  model_family: 'llama',
  job_type: 'SFT',
  serve_target: 'GENERATION',
  resources: { gpus: 0, gpu_memory_gb: 0 },
  runtime: { max_concurrent_requests: 4, max_input_tokens: 256, max_output_tokens: 64 },
  rollout: split ? { strategy: 'canary', traffic_split: split } : { strategy: 'blue-green' },
  use_gpu: false,
});

describe('rolloutSteps', () => {
  it('switches blue-green at once', () => {
    expect(rolloutSteps('blue-green', spec())).toEqual([100]);
  });
  it('follows the canary traffic_split, then 100', () => {
    expect(rolloutSteps('canary', spec({ old: 90, new: 10 }))).toEqual([10, 100]);
    expect(rolloutSteps('canary', spec({ old: 90, new: 10 }), [5, 25, 50])).toEqual([5, 25, 50, 100]);
  });
  it('holds A/B at its split and shadow at 0 %', () => {
    expect(rolloutSteps('ab', spec({ old: 50, new: 50 }))).toEqual([50, 100]);
    expect(rolloutSteps('shadow', spec())).toEqual([0, 100]);
  });
  it('refuses steps that do not increase', () => {
    expect(() => rolloutSteps('canary', spec(), [50, 20])).toThrow(/must increase: 50 → 20/);
  });
});
