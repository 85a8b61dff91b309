export { createKubernetesServingDriver, type KubernetesServingDriverOptions } from './driver.ts';
export { createKServeDriver, inferenceServiceFor, TAG_ROUTING_ANNOTATION } from './kserve-driver.ts';
export {
  createRayDriver,
  defaultRayServeUrl,
  RAY_SERVE_PORT,
  rayServiceFor,
  rayServiceName,
} from './ray-driver.ts';
export {
  inferenceServiceRevisionStatus,
  rayServiceRevisionStatus,
  REVISION_KEYS,
} from './revision-status.ts';
export { kubernetesServingDriverFromEnv } from './from-env.ts';
