import type { Method, Precision } from '../enums.ts';

/**
 * Pre-flight memory estimate (docs/operations/fit-check.md explains each term).
 * Deliberately simple and conservative: it exists to reject jobs that cannot possibly fit before a GPU
 * is touched, not to predict exact usage.
 */
export interface FitInput {
  parameterCount: number;
  method: Method;
  precision: Precision;
  maxSeqLen: number;
  batchSize: number;
  gpus: number;
  nodes: number;
}

export interface FitEstimate {
  perGpuGib: number;
  modelStatesGib: number;
  activationsGib: number;
  overheadGib: number;
  hiddenSize: number;
  layers: number;
}

const GIB = 1024 ** 3;
/** Fraction of parameters trained by LoRA adapters (rank-16 on all projections is ~0.5–1 %). */
export const LORA_TRAINABLE_FRACTION = 0.01;
/** CUDA context, allocator fragmentation and kernels, per GPU. */
export const OVERHEAD_GIB = 1.5;

/** Bytes per parameter held by the model states (weights, gradients, optimizer) for each method. */
export function modelStateBytesPerParam(method: Method): number {
  // Mixed-precision AdamW: 2 (half weights) + 2 (grads) + 4 (fp32 master) + 8 (two fp32 moments) = 16.
  const trainable = 16 * LORA_TRAINABLE_FRACTION;
  if (method === 'full') return 16;
  if (method === 'lora') return 2 + trainable; // frozen half-precision base + trained adapters
  return 0.5 + trainable; // qlora: 4-bit frozen base + trained adapters
}

/**
 * Shape of a decoder from its size: P ≈ 12·L·h² with the usual aspect ratio h ≈ 128·L
 * (Llama-7B: h=4096, L=32), so h ≈ (128·P/12)^(1/3).
 */
export function shapeFromParams(parameterCount: number): { hiddenSize: number; layers: number } {
  const hiddenSize = Math.max(64, Math.cbrt((128 * parameterCount) / 12));
  return { hiddenSize: Math.round(hiddenSize), layers: Math.max(1, Math.round(hiddenSize / 128)) };
}

export function estimateGpuMemory(input: FitInput): FitEstimate {
  const { hiddenSize, layers } = shapeFromParams(input.parameterCount);
  const devices = Math.max(1, input.gpus) * Math.max(1, input.nodes);
  // Model states are sharded across all devices (FSDP / ZeRO-3).
  const modelStates = (input.parameterCount * modelStateBytesPerParam(input.method)) / devices;
  // Activations with gradient checkpointing: 2 bytes of each layer input kept per layer, plus one
  // layer's working set (~34·s·b·h bytes, Korthikanti et al. 2022). The batch is per device.
  const tokens = input.batchSize * input.maxSeqLen;
  const activations = tokens * hiddenSize * (2 * layers + 34);
  const perGpu = modelStates / GIB + activations / GIB + OVERHEAD_GIB;
  return {
    perGpuGib: round2(perGpu),
    modelStatesGib: round2(modelStates / GIB),
    activationsGib: round2(activations / GIB),
    overheadGib: OVERHEAD_GIB,
    hiddenSize,
    layers,
  };
}

export interface GpuHoursInput {
  parameterCount: number;
  method: Method;
  maxSeqLen: number;
  numEpochs: number;
  /** Rows in the dataset; unknown → DEFAULT_ROWS_ASSUMED. */
  rowCount: number | null;
  gpus: number;
  nodes: number;
  peakTflops: number;
}

export const DEFAULT_ROWS_ASSUMED = 10_000;
/** Model FLOPs utilisation assumed for the estimate. */
export const ASSUMED_MFU = 0.35;

export interface GpuHoursEstimate {
  gpuHours: number;
  wallClockHours: number;
  tokens: number;
  rowsAssumed: boolean;
}

/** Training FLOPs ≈ 6·P·tokens for full training, ≈ 4·P·tokens when the base is frozen (no weight gradients). */
export function estimateGpuHours(input: GpuHoursInput): GpuHoursEstimate {
  const rows = input.rowCount ?? DEFAULT_ROWS_ASSUMED;
  const tokens = rows * input.maxSeqLen * input.numEpochs;
  const flopsPerToken = (input.method === 'full' ? 6 : 4) * input.parameterCount;
  const devices = Math.max(1, input.gpus) * Math.max(1, input.nodes);
  const deviceFlops = input.peakTflops * 1e12 * ASSUMED_MFU;
  const wallClockSeconds = (flopsPerToken * tokens) / (deviceFlops * devices);
  const wallClockHours = wallClockSeconds / 3600;
  return {
    gpuHours: round2(wallClockHours * devices),
    wallClockHours: round2(wallClockHours),
    tokens,
    rowsAssumed: input.rowCount == null,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
