import { deploymentSpecSchema, type DeploymentSpec } from '@llmops/spec';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  ENV,
  fromAnnotations,
  int,
  KEYS,
  metadataFor,
  obj,
  resolveContext,
  resourcesFor,
  runtimeEnv,
  str,
  type Json,
  type ManifestContext,
  type ManifestOrigin,
} from './context.ts';
import { ConversionError } from './errors.ts';
import { scaleTargetFor } from './kserve.ts';

export const RAY_API_VERSION = 'ray.io/v1';
export const RAY_KIND = 'RayService';
/** Ray Serve's OpenAI-compatible LLM application builder (ray.serve.llm). */
export const RAY_LLM_IMPORT_PATH = 'ray.serve.llm:build_openai_app';
export const SERVE_APP_NAME = 'llm';
export const WORKER_GROUP = 'model-servers';
/** The head runs the GCS, dashboard and Serve controller only; model replicas run on workers. */
export const HEAD_RESOURCES = { cpu: '2', memory: '8Gi' } as const;

type Container = {
  name: string;
  image: string;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  ports?: { name: string; containerPort: number }[];
};

export interface RayService {
  apiVersion: typeof RAY_API_VERSION;
  kind: typeof RAY_KIND;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: {
    upgradeStrategy: { type: 'NewCluster' };
    serveConfigV2: string;
    rayClusterConfig: {
      enableInTreeAutoscaling: boolean;
      headGroupSpec: {
        rayStartParams: Record<string, string>;
        template: { spec: { containers: Container[] } };
      };
      workerGroupSpecs: {
        groupName: string;
        replicas: number;
        minReplicas: number;
        maxReplicas: number;
        rayStartParams: Record<string, string>;
        template: { spec: { containers: Container[] } };
      }[];
    };
  };
}

/**
 * DeploymentSpec → KubeRay RayService (ray.io/v1). serveConfigV2 is one Ray Serve application built by
 * ray.serve.llm's OpenAI app builder: the model from the version's storage URI, autoscaling between the
 * replica bounds, the runtime limits as engine arguments and environment variables. The cluster has a
 * small head and one worker group whose pods each hold one model replica (with its GPUs).
 */
export function toRayService(spec: DeploymentSpec, ctx: ManifestContext): RayService {
  const r = resolveContext(spec, ctx);
  const { labels, annotations } = metadataFor(spec, r);
  const split = spec.rollout.traffic_split;
  if (split) annotations[KEYS.trafficSplit] = `${split.old}/${split.new}`;
  const { min, max } = r.origin.replicas;
  const perReplica = scaleTargetFor(spec.runtime.max_concurrent_requests, max);
  const engineKwargs: Record<string, number> = {
    max_model_len: spec.runtime.max_input_tokens + spec.runtime.max_output_tokens,
  };
  if (r.gpus > 0) engineKwargs.tensor_parallel_size = r.gpus;
  const serveConfig = {
    applications: [
      {
        name: SERVE_APP_NAME,
        route_prefix: '/',
        import_path: RAY_LLM_IMPORT_PATH,
        runtime_env: {
          env_vars: Object.fromEntries(runtimeEnv(spec).map((e) => [e.name, e.value])),
        },
        args: {
          llm_configs: [
            {
              model_loading_config: { model_id: r.name, model_source: r.origin.storageUri },
              deployment_config: {
                autoscaling_config: {
                  min_replicas: min,
                  max_replicas: max,
                  target_ongoing_requests: perReplica,
                },
                max_ongoing_requests: perReplica,
              },
              engine_kwargs: engineKwargs,
            },
          ],
        },
      },
    ],
  };
  const head: Container = {
    name: 'ray-head',
    image: r.origin.image,
    resources: { requests: { ...HEAD_RESOURCES }, limits: { ...HEAD_RESOURCES } },
    ports: [
      { name: 'gcs-server', containerPort: 6379 },
      { name: 'dashboard', containerPort: 8265 },
      { name: 'client', containerPort: 10001 },
      { name: 'serve', containerPort: 8000 },
    ],
  };
  const worker: Container = { name: 'ray-worker', image: r.origin.image, resources: resourcesFor(r) };
  return {
    apiVersion: RAY_API_VERSION,
    kind: RAY_KIND,
    metadata: { name: r.name, namespace: r.origin.namespace, labels, annotations },
    spec: {
      upgradeStrategy: { type: 'NewCluster' },
      serveConfigV2: stringifyYaml(serveConfig),
      rayClusterConfig: {
        enableInTreeAutoscaling: true,
        headGroupSpec: {
          rayStartParams: { 'num-cpus': '0', 'dashboard-host': '0.0.0.0' },
          template: { spec: { containers: [head] } },
        },
        workerGroupSpecs: [
          {
            groupName: WORKER_GROUP,
            replicas: min,
            minReplicas: min,
            maxReplicas: max,
            rayStartParams: {},
            template: { spec: { containers: [worker] } },
          },
        ],
      },
    },
  };
}

/**
 * RayService → the DeploymentSpec and context it was made from: replicas, model source and runtime limits
 * from serveConfigV2, image and per-replica resources from the worker group, the rest (rollout included:
 * a RayService has no traffic split of its own) from the llmops/* annotations.
 */
export function fromRayService(rs: unknown): { spec: DeploymentSpec; context: ManifestOrigin } {
  const root = obj(rs, '$');
  if (root.apiVersion !== RAY_API_VERSION || root.kind !== RAY_KIND)
    throw new ConversionError(
      'MANIFEST_INVALID',
      'apiVersion',
      `expected ${RAY_API_VERSION} ${RAY_KIND}, got ${String(root.apiVersion)} ${String(root.kind)}`,
    );
  const meta = obj(root.metadata, 'metadata');
  const annotations = obj(meta.annotations, 'metadata.annotations');
  const a = fromAnnotations(annotations, 'metadata');
  const spec = obj(root.spec, 'spec');
  let serve: unknown;
  try {
    serve = parseYaml(str(spec.serveConfigV2, 'spec.serveConfigV2'));
  } catch (e) {
    if (e instanceof ConversionError) throw e;
    throw new ConversionError('MANIFEST_INVALID', 'spec.serveConfigV2', `not YAML: ${(e as Error).message}`);
  }
  const apps = obj(serve, 'spec.serveConfigV2').applications;
  const appPath = 'spec.serveConfigV2.applications[0]';
  const app = obj(Array.isArray(apps) ? apps[0] : undefined, appPath);
  const envVars = obj(
    obj(app.runtime_env, `${appPath}.runtime_env`).env_vars,
    `${appPath}.runtime_env.env_vars`,
  );
  const envNum = (name: string) => int(envVars[name], `${appPath}.runtime_env.env_vars.${name}`);
  const llmPath = `${appPath}.args.llm_configs[0]`;
  const configs = obj(app.args, `${appPath}.args`).llm_configs;
  const llm = obj(Array.isArray(configs) ? configs[0] : undefined, llmPath);
  const loading = obj(llm.model_loading_config, `${llmPath}.model_loading_config`);
  const autoscaling = obj(
    obj(llm.deployment_config, `${llmPath}.deployment_config`).autoscaling_config,
    `${llmPath}.deployment_config.autoscaling_config`,
  );
  const cluster = obj(spec.rayClusterConfig, 'spec.rayClusterConfig');
  const groups = cluster.workerGroupSpecs;
  const wgPath = 'spec.rayClusterConfig.workerGroupSpecs[0]';
  const wg = obj(Array.isArray(groups) ? groups[0] : undefined, wgPath);
  const containers = obj(obj(wg.template, `${wgPath}.template`).spec, `${wgPath}.template.spec`).containers;
  const cPath = `${wgPath}.template.spec.containers[0]`;
  const worker = obj(Array.isArray(containers) ? containers[0] : undefined, cPath);
  const requests = obj(obj(worker.resources, `${cPath}.resources`).requests, `${cPath}.resources.requests`);
  const gpus = a.useGpu
    ? int(requests['nvidia.com/gpu'], `${cPath}.resources.requests["nvidia.com/gpu"]`)
    : a.gpus;

  let rollout: Json = { strategy: a.rolloutStrategy };
  const splitRaw = annotations[KEYS.trafficSplit];
  if (splitRaw !== undefined) {
    const path = `metadata.annotations["${KEYS.trafficSplit}"]`;
    const m = /^(\d+)\/(\d+)$/.exec(str(splitRaw, path));
    if (!m)
      throw new ConversionError(
        'MANIFEST_INVALID',
        path,
        `expected "<old>/<new>", got '${String(splitRaw)}'`,
      );
    rollout = { ...rollout, traffic_split: { old: Number(m[1]), new: Number(m[2]) } };
  }
  const candidate = {
    model_ref: a.modelRef,
    model_family: a.modelFamily,
    job_type: a.jobType,
    serve_target: a.serveTarget,
    resources: { gpus, gpu_memory_gb: a.gpuMemoryGb },
    runtime: {
      max_concurrent_requests: envNum(ENV.maxConcurrentRequests),
      max_input_tokens: envNum(ENV.maxInputTokens),
      max_output_tokens: envNum(ENV.maxOutputTokens),
    },
    rollout,
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
      storageUri: str(loading.model_source, `${llmPath}.model_loading_config.model_source`),
      image: str(worker.image, `${cPath}.image`),
      gpuType: a.gpuType,
      replicas: {
        min: int(autoscaling.min_replicas, `${llmPath}.deployment_config.autoscaling_config.min_replicas`),
        max: int(autoscaling.max_replicas, `${llmPath}.deployment_config.autoscaling_config.max_replicas`),
      },
      cpu: str(requests.cpu, `${cPath}.resources.requests.cpu`),
      memory: str(requests.memory, `${cPath}.resources.requests.memory`),
    },
  };
}
