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
export { appliedOver, createKubeClient } from './client/client.ts';
export type { ApplyResult, KubeClient, KubeClientOptions, PatchType } from './client/client.ts';
export {
  codeForStatus as kubeCodeForStatus,
  isKubeError,
  KubeError,
  toKubeError,
} from './client/kube-error.ts';
export type { KubeErrorCode } from './client/kube-error.ts';
export { kubeConnectionFromEnv, loadKubeConfig, SERVICE_ACCOUNT_TOKEN } from './client/kube-config.ts';
export type { KubeConnection } from './client/kube-config.ts';
export { applyMergePatch, deepEqual, mergePatchBetween } from './client/merge-patch.ts';
export { describeResource, INFERENCE_SERVICES, RAY_SERVICES } from './client/resources.ts';
export type { CustomResource, KubeObject } from './client/resources.ts';
export {
  condition,
  RAY_FAILED_APP_STATES,
  readInferenceServiceStatus,
  readRayServiceStatus,
} from './client/status.ts';
export type {
  Condition,
  InferenceServiceStatus,
  RayApplicationStatus,
  RayServiceStatus,
  TrafficTarget,
} from './client/status.ts';
export type { KubeWatch, WatchEvent, WatchEventType, WatchOptions } from './client/watch.ts';
