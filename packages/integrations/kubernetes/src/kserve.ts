import { deploymentSpecSchema, type DeploymentSpec } from '@llmops/spec';
import {
  DEPLOYMENT_MODES,
  ENV,
  envValue,
  fromAnnotations,
  int,
  metadataFor,
  obj,
  resolveContext,
  resourcesFor,
  runtimeEnv,
  str,
  type DeploymentMode,
  type ManifestContext,
  type ManifestOrigin,
} from './context.ts';
import { ConversionError } from './errors.ts';

export const KSERVE_API_VERSION = 'serving.kserve.io/v1beta1';
export const KSERVE_KIND = 'InferenceService';
export const DEPLOYMENT_MODE_ANNOTATION = 'serving.kserve.io/deploymentMode';
/** The Hugging Face ClusterServingRuntime KServe ships (modelFormat huggingface). */
export const HUGGINGFACE_RUNTIME = 'kserve-huggingfaceserver';
export const PREDICTOR_CONTAINER = 'kserve-container';

export interface InferenceService {
  apiVersion: typeof KSERVE_API_VERSION;
  kind: typeof KSERVE_KIND;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: {
    predictor: {
      minReplicas: number;
      maxReplicas: number;
      scaleMetric: 'concurrency';
      scaleTarget: number;
      containerConcurrency?: number;
      canaryTrafficPercent?: number;
      model: {
        name: string;
        modelFormat: { name: 'huggingface' };
        runtime: string;
        protocolVersion: 'v2';
        image: string;
        storageUri: string;
        args: string[];
        env: { name: string; value: string }[];
        resources: { requests: Record<string, string>; limits: Record<string, string> };
      };
    };
  };
}

/** Requests each replica should carry before the autoscaler adds one (the spec's limit spread evenly). */
export function scaleTargetFor(maxConcurrent: number, maxReplicas: number): number {
  return Math.max(1, Math.ceil(maxConcurrent / maxReplicas));
}

/**
 * DeploymentSpec → KServe InferenceService (serving.kserve.io/v1beta1), served by the Hugging Face runtime
 * with the platform's serve image. Canary rollouts set canaryTrafficPercent to traffic_split.new and need
 * the Serverless (Knative) mode; blue-green uses RawDeployment unless the context says otherwise.
 */
export function toInferenceService(spec: DeploymentSpec, ctx: ManifestContext): InferenceService {
  const r = resolveContext(spec, ctx);
  const canary = spec.rollout.strategy === 'canary' ? spec.rollout.traffic_split : undefined;
  const mode: DeploymentMode = ctx.deploymentMode ?? (canary ? 'Serverless' : 'RawDeployment');
  if (!(DEPLOYMENT_MODES as readonly string[]).includes(mode))
    throw new ConversionError(
      'DEPLOYMENT_MODE_UNSUPPORTED',
      'deploymentMode',
      `'${String(mode)}' is not one of ${DEPLOYMENT_MODES.join(', ')}`,
    );
  if (canary && mode === 'RawDeployment')
    throw new ConversionError(
      'DEPLOYMENT_MODE_UNSUPPORTED',
      'deploymentSpec.rollout.strategy',
      'canary traffic splitting needs the Serverless (Knative) deployment mode; RawDeployment has no canaryTrafficPercent',
    );
  const { labels, annotations } = metadataFor(spec, r);
  annotations[DEPLOYMENT_MODE_ANNOTATION] = mode;
  const { min, max } = r.origin.replicas;
  const predictor: InferenceService['spec']['predictor'] = {
    minReplicas: min,
    maxReplicas: max,
    scaleMetric: 'concurrency',
    scaleTarget: scaleTargetFor(spec.runtime.max_concurrent_requests, max),
    model: {
      name: 'kserve-container',
      modelFormat: { name: 'huggingface' },
      runtime: HUGGINGFACE_RUNTIME,
      protocolVersion: 'v2',
      image: r.origin.image,
      storageUri: r.origin.storageUri,
      args: [
        `--model_name=${r.name}`,
        `--max_model_len=${spec.runtime.max_input_tokens + spec.runtime.max_output_tokens}`,
        ...(r.gpus > 1 ? [`--tensor-parallel-size=${r.gpus}`] : []),
      ],
      env: runtimeEnv(spec),
      resources: resourcesFor(r),
    },
  };
  if (canary) predictor.canaryTrafficPercent = canary.new;
  return {
    apiVersion: KSERVE_API_VERSION,
    kind: KSERVE_KIND,
    metadata: { name: r.name, namespace: r.origin.namespace, labels, annotations },
    spec: { predictor },
  };
}

/**
 * InferenceService → the DeploymentSpec and context it was made from. Native fields win where they exist
 * (replicas, canaryTrafficPercent, GPUs, storageUri, image, the runtime limits in env); the rest comes
 * from the llmops/* annotations. The result is checked against the DeploymentSpec schema; anything
 * missing or malformed throws a ConversionError naming the manifest path.
 */
export function fromInferenceService(isvc: unknown): {
  spec: DeploymentSpec;
  context: ManifestOrigin & { deploymentMode: DeploymentMode };
} {
  const root = obj(isvc, '$');
  if (root.apiVersion !== KSERVE_API_VERSION || root.kind !== KSERVE_KIND)
    throw new ConversionError(
      'MANIFEST_INVALID',
      'apiVersion',
      `expected ${KSERVE_API_VERSION} ${KSERVE_KIND}, got ${String(root.apiVersion)} ${String(root.kind)}`,
    );
  const meta = obj(root.metadata, 'metadata');
  const annotations = obj(meta.annotations, 'metadata.annotations');
  const a = fromAnnotations(annotations, 'metadata');
  const mode = str(
    annotations[DEPLOYMENT_MODE_ANNOTATION],
    `metadata.annotations["${DEPLOYMENT_MODE_ANNOTATION}"]`,
  );
  if (!(DEPLOYMENT_MODES as readonly string[]).includes(mode))
    throw new ConversionError(
      'DEPLOYMENT_MODE_UNSUPPORTED',
      `metadata.annotations["${DEPLOYMENT_MODE_ANNOTATION}"]`,
      `'${mode}' is not one of ${DEPLOYMENT_MODES.join(', ')}`,
    );
  const p = obj(obj(root.spec, 'spec').predictor, 'spec.predictor');
  const m = obj(p.model, 'spec.predictor.model');
  const res = obj(m.resources, 'spec.predictor.model.resources');
  const requests = obj(res.requests, 'spec.predictor.model.resources.requests');
  const gpuQty = requests['nvidia.com/gpu'];
  const gpus = a.useGpu ? int(gpuQty, 'spec.predictor.model.resources.requests["nvidia.com/gpu"]') : a.gpus;
  const envPath = 'spec.predictor.model.env';
  const canary =
    p.canaryTrafficPercent === undefined
      ? null
      : int(p.canaryTrafficPercent, 'spec.predictor.canaryTrafficPercent');
  const candidate = {
    model_ref: a.modelRef,
    model_family: a.modelFamily,
    job_type: a.jobType,
    serve_target: a.serveTarget,
    resources: { gpus, gpu_memory_gb: a.gpuMemoryGb },
    runtime: {
      max_concurrent_requests: envValue(m.env, ENV.maxConcurrentRequests, envPath),
      max_input_tokens: envValue(m.env, ENV.maxInputTokens, envPath),
      max_output_tokens: envValue(m.env, ENV.maxOutputTokens, envPath),
    },
    rollout:
      canary === null
        ? { strategy: 'blue-green' }
        : { strategy: 'canary', traffic_split: { old: 100 - canary, new: canary } },
    use_gpu: a.useGpu,
  };
  const parsed = deploymentSpecSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConversionError(
      'MANIFEST_INVALID',
      `deploymentSpec.${issue.path.join('.')}`,
      `the manifest does not give a valid DeploymentSpec: ${issue.message}`,
    );
  }
  return {
    spec: parsed.data,
    context: {
      endpointId: a.endpointId,
      name: a.name,
      namespace: str(meta.namespace, 'metadata.namespace'),
      project: a.project,
      modelVersion: a.modelVersion,
      storageUri: str(m.storageUri, 'spec.predictor.model.storageUri'),
      image: str(m.image, 'spec.predictor.model.image'),
      gpuType: a.gpuType,
      replicas: {
        min: int(p.minReplicas, 'spec.predictor.minReplicas'),
        max: int(p.maxReplicas, 'spec.predictor.maxReplicas'),
      },
      cpu: str(requests.cpu, 'spec.predictor.model.resources.requests.cpu'),
      memory: str(requests.memory, 'spec.predictor.model.resources.requests.memory'),
      deploymentMode: mode as DeploymentMode,
    },
  };
}
