import type { Environment } from '@llmops/spec';
import type { GpuType, ModelFamilyConfig, PlatformConfig } from './schema.ts';

/** GPU types users may request in `environment` (default: the environment the config was loaded for). */
export function gpuTypesFor(
  config: PlatformConfig,
  environment: Environment = config.environment,
): readonly GpuType[] {
  return config.gpu_types[environment];
}

/** Exact, case-sensitive match: the name is stored on the job and used as a Kubernetes node selector. */
export function findGpuType(
  config: PlatformConfig,
  name: string,
  environment: Environment = config.environment,
): GpuType | undefined {
  return gpuTypesFor(config, environment).find((type) => type.name === name);
}

/** The whitelisted family, or undefined when `family` is not supported. */
export function familyConfig(config: PlatformConfig, family: string): ModelFamilyConfig | undefined {
  return Object.hasOwn(config.model_families, family) ? config.model_families[family] : undefined;
}
