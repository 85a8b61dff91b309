import { describe, expect, it } from 'vitest';
import { estimateGpuHours, estimateGpuMemory, modelStateBytesPerParam, shapeFromParams } from './fit.ts';

const base = {
  parameterCount: 8e9,
  precision: 'bf16' as const,
  maxSeqLen: 4096,
  batchSize: 4,
  gpus: 2,
  nodes: 1,
};

describe('fit estimate', () => {
  it('derives a Llama-7B-like shape from the parameter count', () => {
    expect(shapeFromParams(7e9)).toEqual({ hiddenSize: expect.any(Number), layers: expect.any(Number) });
    const { hiddenSize, layers } = shapeFromParams(7e9);
    expect(hiddenSize).toBeGreaterThan(3800);
    expect(hiddenSize).toBeLessThan(4500);
    expect(layers).toBeGreaterThanOrEqual(30);
    expect(layers).toBeLessThanOrEqual(35);
  });

  it('orders methods full > lora > qlora', () => {
    const full = estimateGpuMemory({ ...base, method: 'full' }).perGpuGib;
    const lora = estimateGpuMemory({ ...base, method: 'lora' }).perGpuGib;
    const qlora = estimateGpuMemory({ ...base, method: 'qlora' }).perGpuGib;
    expect(full).toBeGreaterThan(lora);
    expect(lora).toBeGreaterThan(qlora);
    expect(modelStateBytesPerParam('full')).toBe(16);
  });

  it('shards model states across GPUs and nodes but not activations', () => {
    const one = estimateGpuMemory({ ...base, method: 'full', gpus: 1 });
    const eight = estimateGpuMemory({ ...base, method: 'full', gpus: 4, nodes: 2 });
    expect(eight.modelStatesGib).toBeCloseTo(one.modelStatesGib / 8, 1);
    expect(eight.activationsGib).toBe(one.activationsGib);
  });

  it('puts the quickstart LoRA job well inside an 80 GiB A100 and full 8B training outside a T4', () => {
    expect(estimateGpuMemory({ ...base, method: 'lora' }).perGpuGib).toBeLessThan(72);
    expect(estimateGpuMemory({ ...base, method: 'full', gpus: 1 }).perGpuGib).toBeGreaterThan(16);
  });

  it('estimates GPU-hours from tokens and marks an assumed row count', () => {
    const a = estimateGpuHours({
      parameterCount: 8e9,
      method: 'lora',
      maxSeqLen: 4096,
      numEpochs: 3,
      rowCount: 1000,
      gpus: 2,
      nodes: 1,
      peakTflops: 312,
    });
    const b = estimateGpuHours({
      parameterCount: 8e9,
      method: 'lora',
      maxSeqLen: 4096,
      numEpochs: 6,
      rowCount: 1000,
      gpus: 2,
      nodes: 1,
      peakTflops: 312,
    });
    expect(a.tokens).toBe(1000 * 4096 * 3);
    expect(a.rowsAssumed).toBe(false);
    expect(b.gpuHours).toBeCloseTo(a.gpuHours * 2, 1);
    expect(
      estimateGpuHours({
        ...{
          parameterCount: 1e9,
          method: 'full',
          maxSeqLen: 512,
          numEpochs: 1,
          gpus: 1,
          nodes: 1,
          peakTflops: 100,
        },
        rowCount: null,
      }).rowsAssumed,
    ).toBe(true);
  });
});
