import type { Environment, JobType, ServeTarget } from '../enums.ts';
import type { RuleCode } from '../codes.ts';

/** One violated rule: a stable code, the JSON path in the request, and a sentence for humans. */
export interface RuleViolation {
  code: RuleCode;
  path: string;
  message: string;
}

export interface FamilyInfo {
  name: string;
  hfArchitectures: readonly string[];
  allowedJobTypes: readonly JobType[];
  serveTargets?: readonly ServeTarget[];
}

export interface GpuTypeInfo {
  name: string;
  memoryGib: number;
  pricePerGpuHour: number;
  maxPerNode?: number;
  /** Dense bf16 peak, used only for the GPU-hour estimate. */
  peakTflops?: number;
}

export interface CatalogModelInfo {
  id: string;
  name: string;
  modelFamily: string;
  maxPositionEmbeddings: number;
  parameterCount: number;
}

export interface CatalogDatasetInfo {
  id: string;
  name: string;
  version: string;
  type: string;
  rowCount?: number | null;
}

/** What the rules need to know about the world: configuration plus catalog lookups done beforehand. */
export interface RuleContext {
  environment: Environment;
  families: Readonly<Record<string, FamilyInfo>>;
  gpuTypes: readonly GpuTypeInfo[];
  policies: {
    maxGpusPerJob: number;
    maxNodesPerJob: number;
    fitCheck: { enabled: boolean; headroom: number };
  };
}

/** A named rule: its code(s) and a pure check. */
export interface Rule<S, C> {
  name: string;
  codes: readonly RuleCode[];
  check(subject: S, ctx: C): RuleViolation[];
}

export function violation(code: RuleCode, path: string, message: string): RuleViolation {
  return { code, path, message };
}
