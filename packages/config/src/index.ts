export { ConfigError, isConfigError } from './errors.ts';
export type { ConfigIssue } from './errors.ts';
export {
  platformConfigSchema,
  modelFamilySchema,
  gpuTypeSchema,
  imageRefSchema,
  imageVariantsSchema,
  imagesSchema,
  policiesSchema,
} from './schema.ts';
export type {
  PlatformConfig,
  PlatformConfigFile,
  ModelFamilyConfig,
  GpuType,
  ImageVariants,
  Policies,
} from './schema.ts';
export { loadPlatformConfig, defaultConfigDir, overlayFileName, BASE_CONFIG_FILE } from './load.ts';
export type { LoadPlatformConfigOptions } from './load.ts';
export { deepMerge } from './merge.ts';
export { gpuTypesFor, findGpuType, familyConfig } from './lookup.ts';
export { envSchema, loadEnv, platformNodeArgs, SECRET_ENV_VARS, LOG_LEVELS } from './env.ts';
export type { PlatformEnv, EnvVarName } from './env.ts';
export { featureFlags, databaseTarget } from './features.ts';
export type { FeatureFlags, IntegrationFlag, DatabaseTarget } from './features.ts';
export { renderEnvExample } from './env-example.ts';
