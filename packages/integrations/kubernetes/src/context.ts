import type { DeploymentSpec } from '@llmops/spec';
import { ConversionError } from './errors.ts';
import { isDns1035, toDns1035 } from './names.ts';

/** KServe deployment modes as of v0.15 (v0.16+ still accepts them and maps them to Knative / Standard). */
export const DEPLOYMENT_MODES = ['Serverless', 'RawDeployment'] as const;
export type DeploymentMode = (typeof DEPLOYMENT_MODES)[number];

/** storageUri schemes KServe's storage initializer understands (v0.15.2). */
export const STORAGE_URI_SCHEMES = [
  'gs',
  's3',
  'pvc',
  'file',
  'https',
  'http',
  'hdfs',
  'webhdfs',
  'oci',
  'hf',
] as const;

export interface GpuTypeInfo {
  name: string;
  memoryGib: number;
  /** GPUs one node carries; null: no limit configured. */
  maxPerNode: number | null;
}

/**
 * What a manifest needs besides the DeploymentSpec. Everything here comes from the platform (the stored
 * endpoint, the model version, configuration), never from the request.
 */
export interface ManifestContext {
  endpointId: string;
  /** The endpoint's name; metadata.name is derived from it, or from endpointId when it is absent. */
  name?: string | null;
  namespace: string;
  /** Slug of the project that owns the endpoint. */
  project: string;
  /** Version of the model (model_ref) being served. */
  modelVersion: string;
  /** Where the model version's files are; required. */
  storageUri: string | null;
  /** The serve image the platform selected from configuration. */
  image: string;
  /** GPU type the replicas run on; required when the spec asks for GPUs with use_gpu. */
  gpuType?: GpuTypeInfo | null;
  /** Replica bounds of the model server. Default 1..1. */
  replicas?: { min: number; max: number };
  /** CPU and memory per replica (Kubernetes quantities). Defaults: 4 CPUs, 16Gi. */
  cpu?: string;
  memory?: string;
  /** KServe only. Default: Serverless for canary rollouts (traffic splitting needs Knative), else RawDeployment. */
  deploymentMode?: DeploymentMode;
}

/** The context a manifest carries, as read back from it (the GPU type by name only). */
export interface ManifestOrigin {
  endpointId: string;
  name: string | null;
  namespace: string;
  project: string;
  modelVersion: string;
  storageUri: string;
  image: string;
  gpuType: string | null;
  replicas: { min: number; max: number };
  cpu: string;
  memory: string;
}

export const DEFAULT_CPU = '4';
export const DEFAULT_MEMORY = '16Gi';

/** Annotation and label keys written on every manifest. */
export const KEYS = {
  managedBy: 'app.kubernetes.io/managed-by',
  endpointId: 'llmops/endpoint-id',
  endpointName: 'llmops/endpoint-name',
  project: 'llmops/project',
  modelRef: 'llmops/model-ref',
  modelVersion: 'llmops/model-version',
  modelFamily: 'llmops/model-family',
  jobType: 'llmops/job-type',
  serveTarget: 'llmops/serve-target',
  useGpu: 'llmops/use-gpu',
  gpus: 'llmops/gpus',
  gpuMemoryGb: 'llmops/gpu-memory-gb',
  gpuType: 'llmops/gpu-type',
  rolloutStrategy: 'llmops/rollout-strategy',
  trafficSplit: 'llmops/traffic-split',
} as const;

export const MANAGER = 'llmops';

/** Environment variables carrying the runtime limits to the model server. */
export const ENV = {
  maxConcurrentRequests: 'LLMOPS_MAX_CONCURRENT_REQUESTS',
  maxInputTokens: 'LLMOPS_MAX_INPUT_TOKENS',
  maxOutputTokens: 'LLMOPS_MAX_OUTPUT_TOKENS',
} as const;

const QUANTITY =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

export interface Resolved {
  name: string;
  origin: ManifestOrigin;
  /** GPUs each replica requests (0 when use_gpu is false). */
  gpus: number;
}

/**
 * Checks the context against the spec and fills the defaults. Throws a ConversionError naming the field
 * for a missing or unusable storage URI, a GPU request the GPU type cannot hold, a name that cannot become
 * DNS-1035, or a malformed context value.
 */
export function resolveContext(spec: DeploymentSpec, ctx: ManifestContext): Resolved {
  const name = toDns1035(ctx.name ?? ctx.endpointId, ctx.name != null ? 'name' : 'endpointId');
  if (!isDns1035(ctx.namespace))
    throw new ConversionError('CONTEXT_INVALID', 'namespace', `'${ctx.namespace}' is not a DNS-1035 label`);
  if (!ctx.image.trim()) throw new ConversionError('CONTEXT_INVALID', 'image', 'no serve image was selected');
  if (!ctx.storageUri)
    throw new ConversionError(
      'STORAGE_URI_MISSING',
      'storageUri',
      `model '${spec.model_ref}' version ${ctx.modelVersion} has no storage URI; register the version with its files before deploying it`,
    );
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(ctx.storageUri)?.[1];
  if (!scheme || !(STORAGE_URI_SCHEMES as readonly string[]).includes(scheme))
    throw new ConversionError(
      'STORAGE_URI_UNSUPPORTED',
      'storageUri',
      `'${ctx.storageUri}' is not a URI the model server can download (schemes: ${STORAGE_URI_SCHEMES.map((s) => `${s}://`).join(', ')})`,
    );
  const replicas = ctx.replicas ?? { min: 1, max: 1 };
  if (
    !Number.isInteger(replicas.min) ||
    !Number.isInteger(replicas.max) ||
    replicas.min < 0 ||
    replicas.max < 1
  )
    throw new ConversionError(
      'CONTEXT_INVALID',
      'replicas',
      'min must be an integer >= 0 and max an integer >= 1',
    );
  if (replicas.min > replicas.max)
    throw new ConversionError(
      'CONTEXT_INVALID',
      'replicas',
      `min ${replicas.min} is above max ${replicas.max}`,
    );
  const cpu = ctx.cpu ?? DEFAULT_CPU;
  const memory = ctx.memory ?? DEFAULT_MEMORY;
  if (!QUANTITY.test(cpu)) throw new ConversionError('CONTEXT_INVALID', 'cpu', `'${cpu}' is not a quantity`);
  if (!QUANTITY.test(memory))
    throw new ConversionError('CONTEXT_INVALID', 'memory', `'${memory}' is not a quantity`);

  const gpus = spec.use_gpu ? spec.resources.gpus : 0;
  const gpuType = ctx.gpuType ?? null;
  if (gpus > 0) {
    if (!gpuType)
      throw new ConversionError(
        'GPU_TYPE_MISSING',
        'deploymentSpec.resources.gpus',
        `${gpus} GPU(s) requested but no GPU type in this environment offers ${spec.resources.gpu_memory_gb} GiB`,
      );
    if (gpuType.maxPerNode !== null && gpus > gpuType.maxPerNode)
      throw new ConversionError(
        'GPU_COUNT_EXCEEDS_GPU_TYPE',
        'deploymentSpec.resources.gpus',
        `${gpus} GPUs per replica, but a ${gpuType.name} node has at most ${gpuType.maxPerNode}; a replica cannot span nodes`,
      );
    if (spec.resources.gpu_memory_gb > gpuType.memoryGib)
      throw new ConversionError(
        'GPU_MEMORY_EXCEEDS_GPU_TYPE',
        'deploymentSpec.resources.gpu_memory_gb',
        `${spec.resources.gpu_memory_gb} GiB per GPU, but a ${gpuType.name} has ${gpuType.memoryGib} GiB`,
      );
  }
  return {
    name,
    gpus,
    origin: {
      endpointId: ctx.endpointId,
      name: ctx.name ?? null,
      namespace: ctx.namespace,
      project: ctx.project,
      modelVersion: ctx.modelVersion,
      storageUri: ctx.storageUri,
      image: ctx.image,
      gpuType: gpus > 0 && gpuType ? gpuType.name : null,
      replicas,
      cpu,
      memory,
    },
  };
}

/** Kubernetes objects are plain JSON; this is the shape the converters read back. */
export type Json = Record<string, unknown>;

export function obj(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConversionError('MANIFEST_INVALID', path, 'expected an object');
  return value as Json;
}

export function str(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new ConversionError('MANIFEST_INVALID', path, 'expected a string');
  return value;
}

export function int(value: unknown, path: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new ConversionError('MANIFEST_INVALID', path, 'expected an integer');
  return n;
}

export function bool(value: unknown, path: string): boolean {
  if (value === 'true' || value === true) return true;
  if (value === 'false' || value === false) return false;
  throw new ConversionError('MANIFEST_INVALID', path, 'expected "true" or "false"');
}

/** Labels and annotations shared by both converters. */
export function metadataFor(spec: DeploymentSpec, r: Resolved) {
  const o = r.origin;
  const labels: Record<string, string> = { [KEYS.managedBy]: MANAGER };
  const put = (key: string, v: string) => {
    if (v.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) labels[key] = v;
  };
  put(KEYS.endpointId, o.endpointId);
  put(KEYS.project, o.project);
  put(KEYS.modelVersion, o.modelVersion);
  put(KEYS.serveTarget, spec.serve_target);
  const annotations: Record<string, string> = {
    [KEYS.endpointId]: o.endpointId,
    [KEYS.project]: o.project,
    [KEYS.modelRef]: spec.model_ref,
    [KEYS.modelVersion]: o.modelVersion,
    [KEYS.modelFamily]: spec.model_family,
    [KEYS.jobType]: spec.job_type,
    [KEYS.serveTarget]: spec.serve_target,
    [KEYS.useGpu]: String(spec.use_gpu),
    [KEYS.gpus]: String(spec.resources.gpus),
    [KEYS.gpuMemoryGb]: String(spec.resources.gpu_memory_gb),
    [KEYS.rolloutStrategy]: spec.rollout.strategy,
  };
  if (o.name !== null) annotations[KEYS.endpointName] = o.name;
  if (o.gpuType !== null) annotations[KEYS.gpuType] = o.gpuType;
  return { labels, annotations };
}

/** Requests and limits of one model-server container. */
export function resourcesFor(r: Resolved) {
  const q: Record<string, string> = { cpu: r.origin.cpu, memory: r.origin.memory };
  if (r.gpus > 0) q['nvidia.com/gpu'] = String(r.gpus);
  return { requests: { ...q }, limits: { ...q } };
}

export function runtimeEnv(spec: DeploymentSpec) {
  return [
    { name: ENV.maxConcurrentRequests, value: String(spec.runtime.max_concurrent_requests) },
    { name: ENV.maxInputTokens, value: String(spec.runtime.max_input_tokens) },
    { name: ENV.maxOutputTokens, value: String(spec.runtime.max_output_tokens) },
  ];
}

/**
 * The part of the spec and context that lives in annotations, read back. `read` returns the annotation
 * or throws naming it.
 */
export function fromAnnotations(annotations: Json, base: string) {
  const a = (key: string) => str(annotations[key], `${base}.annotations["${key}"]`);
  const opt = (key: string) => (annotations[key] === undefined ? null : a(key));
  return {
    endpointId: a(KEYS.endpointId),
    name: opt(KEYS.endpointName),
    project: a(KEYS.project),
    modelRef: a(KEYS.modelRef),
    modelVersion: a(KEYS.modelVersion),
    modelFamily: a(KEYS.modelFamily),
    jobType: a(KEYS.jobType),
    serveTarget: a(KEYS.serveTarget),
    useGpu: bool(annotations[KEYS.useGpu], `${base}.annotations["${KEYS.useGpu}"]`),
    gpus: int(annotations[KEYS.gpus], `${base}.annotations["${KEYS.gpus}"]`),
    gpuMemoryGb: int(annotations[KEYS.gpuMemoryGb], `${base}.annotations["${KEYS.gpuMemoryGb}"]`),
    gpuType: opt(KEYS.gpuType),
    rolloutStrategy: a(KEYS.rolloutStrategy),
  };
}

export function envValue(env: unknown, name: string, path: string): number {
  const list = Array.isArray(env) ? (env as unknown[]) : [];
  const hit = list.find((e) => typeof e === 'object' && e !== null && (e as Json).name === name) as
    Json | undefined;
  if (!hit) throw new ConversionError('MANIFEST_INVALID', path, `environment variable ${name} is missing`);
  return int(hit.value, `${path}[${name}]`);
}
