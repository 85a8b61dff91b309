import { envSchema, gpuTypesFor, type PlatformConfig } from '@llmops/config';
import {
  isConversionError,
  toInferenceService,
  toRayService,
  type GpuTypeInfo,
  type ManifestContext,
} from '@llmops/integrations-kubernetes';
import type { DeploymentSpec, Environment } from '@llmops/spec';

export const SERVING_BACKENDS = ['local', 'kserve', 'ray'] as const;
export type ServingBackend = (typeof SERVING_BACKENDS)[number];

/** Where new endpoints are deployed: the serving framework chosen by configuration. */
export interface ServingBackendConfig {
  backend: ServingBackend;
  /** Kubernetes namespace of the generated manifest (KServe: KSERVE_NAMESPACE). */
  namespace: string;
}

/** Namespace of RayServices; there is no setting for it yet. */
export const RAY_NAMESPACE = 'default';

/**
 * The serving backend from the environment variables quickstart.md §3.1 defines: SERVING_FRAMEWORK_DEFAULT
 * when SERVING_FRAMEWORK_ENABLED (KServe only with USE_KSERVE), else the local model server.
 */
export function servingBackendFromEnv(env: NodeJS.ProcessEnv = process.env): ServingBackendConfig {
  const input: Record<string, string> = {};
  for (const key of [
    'SERVING_FRAMEWORK_ENABLED',
    'SERVING_FRAMEWORK_DEFAULT',
    'USE_KSERVE',
    'KSERVE_NAMESPACE',
  ])
    if (env[key] !== undefined && env[key] !== '') input[key] = env[key]!;
  const e = envSchema
    .pick({
      SERVING_FRAMEWORK_ENABLED: true,
      SERVING_FRAMEWORK_DEFAULT: true,
      USE_KSERVE: true,
      KSERVE_NAMESPACE: true,
    })
    .parse(input);
  const system = e.SERVING_FRAMEWORK_DEFAULT;
  if (system === 'ray' && e.SERVING_FRAMEWORK_ENABLED) return { backend: 'ray', namespace: RAY_NAMESPACE };
  const kserve = system === 'kserve' && e.SERVING_FRAMEWORK_ENABLED && e.USE_KSERVE;
  // The local model server has no namespace; KSERVE_NAMESPACE is reported so the field is never empty.
  return { backend: kserve ? 'kserve' : 'local', namespace: e.KSERVE_NAMESPACE };
}

/** What the deployment view and dry runs show: the backend, its native object, or why there is none. */
export interface DeploymentManifest {
  backend: ServingBackend;
  kind: 'InferenceService' | 'RayService' | null;
  manifest: Record<string, unknown> | null;
  error: { code: string; field: string; message: string } | null;
}

/**
 * The GPU type replicas are scheduled on: the smallest (then cheapest) configured type with enough memory
 * per GPU that fits the per-replica GPU count on one node; if none fits the count, the largest such type
 * (the converter then reports the count). Null when no type has the memory.
 */
export function gpuTypeFor(
  config: PlatformConfig,
  environment: Environment,
  spec: DeploymentSpec,
): GpuTypeInfo | null {
  const fits = gpuTypesFor(config, environment)
    .filter((g) => g.memory_gib >= spec.resources.gpu_memory_gb)
    .sort((a, b) => a.memory_gib - b.memory_gib || a.price_per_gpu_hour - b.price_per_gpu_hour);
  const pick = fits.find((g) => g.max_per_node >= spec.resources.gpus) ?? fits.at(-1);
  return pick ? { name: pick.name, memoryGib: pick.memory_gib, maxPerNode: pick.max_per_node } : null;
}

/** Converts the spec for `backend`; a ConversionError becomes `error` (anything else is a bug and throws). */
export function deploymentManifest(
  backend: ServingBackend,
  spec: DeploymentSpec,
  ctx: ManifestContext,
): DeploymentManifest {
  if (backend === 'local') return { backend, kind: null, manifest: null, error: null };
  try {
    const manifest = backend === 'kserve' ? toInferenceService(spec, ctx) : toRayService(spec, ctx);
    return {
      backend,
      kind: manifest.kind,
      manifest: manifest as unknown as Record<string, unknown>,
      error: null,
    };
  } catch (e) {
    if (!isConversionError(e)) throw e;
    return {
      backend,
      kind: backend === 'kserve' ? 'InferenceService' : 'RayService',
      manifest: null,
      error: { code: e.code, field: e.field, message: e.message },
    };
  }
}
