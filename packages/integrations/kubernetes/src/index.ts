export { ConversionError, isConversionError } from './errors.ts';
export type { ConversionErrorCode } from './errors.ts';
export { isDns1035, labelValue, MAX_NAME_LENGTH, toDns1035 } from './names.ts';
export {
  DEFAULT_CPU,
  DEFAULT_MEMORY,
  DEPLOYMENT_MODES,
  ENV as RUNTIME_ENV,
  KEYS as MANIFEST_KEYS,
  STORAGE_URI_SCHEMES,
} from './context.ts';
export type { DeploymentMode, GpuTypeInfo, ManifestContext, ManifestOrigin } from './context.ts';
export {
  DEPLOYMENT_MODE_ANNOTATION,
  fromInferenceService,
  HUGGINGFACE_RUNTIME,
  KSERVE_API_VERSION,
  KSERVE_KIND,
  scaleTargetFor,
  toInferenceService,
} from './kserve.ts';
export type { InferenceService } from './kserve.ts';
export { fromRayService, RAY_API_VERSION, RAY_KIND, RAY_LLM_IMPORT_PATH, toRayService } from './ray.ts';
export type { RayService } from './ray.ts';
export { CRD_FILES, formatCrdErrors, readCrd, validateAgainstCrd } from './crd.ts';
export type { CrdIssue, CrdValidation } from './crd.ts';
