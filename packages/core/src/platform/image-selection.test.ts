import { describe, expect, it } from 'vitest';
import { loadPlatformConfig } from '@llmops/config';
import { JOB_TYPES, SERVE_TARGETS } from '@llmops/spec';
import type { GpuPreference } from '@llmops/spec';
import type { GpuDetection } from './gpu-detection.ts';
import { selectImage } from './image-selection.ts';

const config = loadPlatformConfig({ environment: 'dev' });

const present: GpuDetection = {
  state: 'present',
  count: 2,
  models: ['NVIDIA L4', 'NVIDIA L4'],
  reason: 'nvidia-smi found 2 GPUs: NVIDIA L4, NVIDIA L4',
};
const absent: GpuDetection = { state: 'absent', count: 0, models: [], reason: 'nvidia-smi is not installed' };
const unknown: GpuDetection = {
  state: 'unknown',
  count: 0,
  models: [],
  reason: 'nvidia-smi did not answer in time.',
};

describe('selectImage decision table', () => {
  it.each<[boolean, GpuPreference, GpuDetection, 'gpu' | 'cpu', string]>([
    [false, 'auto', present, 'cpu', 'CPU image chosen because the SFT job sets use_gpu=false.'],
    [false, 'gpu', present, 'cpu', 'CPU image chosen because the SFT job sets use_gpu=false.'],
    [false, 'cpu', absent, 'cpu', 'CPU image chosen because the SFT job sets use_gpu=false.'],
    [
      true,
      'cpu',
      present,
      'cpu',
      'CPU image chosen because the administrator set the GPU preference to cpu.',
    ],
    [
      true,
      'gpu',
      absent,
      'gpu',
      'GPU image chosen because the administrator set the GPU preference to gpu (detection: nvidia-smi is not installed).',
    ],
    [
      true,
      'gpu',
      unknown,
      'gpu',
      'GPU image chosen because the administrator set the GPU preference to gpu (detection: nvidia-smi did not answer in time).',
    ],
    [
      true,
      'auto',
      present,
      'gpu',
      'GPU image chosen because a GPU was detected (nvidia-smi found 2 GPUs: NVIDIA L4, NVIDIA L4).',
    ],
    [
      true,
      'auto',
      absent,
      'cpu',
      'CPU image chosen because no GPU was detected (nvidia-smi is not installed).',
    ],
    [
      true,
      'auto',
      unknown,
      'cpu',
      'CPU image chosen because GPU detection was inconclusive (nvidia-smi did not answer in time).',
    ],
  ])('use_gpu=%s, preference=%s, detection=%o → %s', (useGpu, preference, detection, variant, reason) => {
    const choice = selectImage({ config, kind: 'train', jobType: 'SFT' }, useGpu, preference, detection);
    expect(choice).toEqual({ image: config.images.train.SFT[variant], variant, reason });
  });
});

describe('selectImage lookup', () => {
  it.each(JOB_TYPES)('takes the %s training image from configuration', (jobType) => {
    expect(selectImage({ config, kind: 'train', jobType }, true, 'auto', present).image).toBe(
      config.images.train[jobType].gpu,
    );
    expect(selectImage({ config, kind: 'train', jobType }, true, 'auto', absent).image).toBe(
      config.images.train[jobType].cpu,
    );
  });

  it.each(SERVE_TARGETS)('takes the %s serving image from configuration', (serveTarget) => {
    const gpu = selectImage({ config, kind: 'serve', serveTarget }, true, 'auto', present);
    const cpu = selectImage({ config, kind: 'serve', serveTarget }, false, 'auto', present);
    expect(gpu.image).toBe(config.images.serve[serveTarget].gpu);
    expect(cpu).toEqual({
      image: config.images.serve[serveTarget].cpu,
      variant: 'cpu',
      reason: `CPU image chosen because the ${serveTarget} deployment sets use_gpu=false.`,
    });
  });

  it('never returns the same image for both variants of the shipped configuration', () => {
    const gpu = selectImage({ config, kind: 'train', jobType: 'EMBEDDING' }, true, 'gpu', absent);
    const cpu = selectImage({ config, kind: 'train', jobType: 'EMBEDDING' }, true, 'cpu', present);
    expect(gpu.image).not.toBe(cpu.image);
  });
});
