import { gpuTypesFor, type PlatformConfig } from '@llmops/config';
import type { Environment, FamilyInfo, GpuPreference, RuleContext } from '@llmops/spec';
import type { GpuDetection } from './platform/index.ts';

/** Everything the services read from the machine and configuration, resolved once at boot. */
export interface PlatformContext {
  config: PlatformConfig;
  gpuPreference: GpuPreference;
  gpu: GpuDetection;
}

/** Rough dense bf16 peaks for the GPU-hour estimate when configuration does not give one. */
const DEFAULT_PEAK_TFLOPS = 100;

export function ruleContextFor(
  config: PlatformConfig,
  environment: Environment = config.environment,
): RuleContext {
  const families: Record<string, FamilyInfo> = {};
  for (const [name, f] of Object.entries(config.model_families)) {
    families[name] = {
      name,
      hfArchitectures: f.hf_architectures,
      allowedJobTypes: f.allowed_job_types,
      serveTargets: f.serve_targets,
    };
  }
  return {
    environment,
    families,
    gpuTypes: gpuTypesFor(config, environment).map((g) => ({
      name: g.name,
      memoryGib: g.memory_gib,
      pricePerGpuHour: g.price_per_gpu_hour,
      maxPerNode: g.max_per_node,
      peakTflops: g.peak_tflops ?? DEFAULT_PEAK_TFLOPS,
    })),
    policies: {
      maxGpusPerJob: config.policies.max_gpus_per_job,
      maxNodesPerJob: config.policies.max_nodes_per_job,
      fitCheck: { enabled: config.policies.fit_check.enabled, headroom: config.policies.fit_check.headroom },
    },
  };
}
