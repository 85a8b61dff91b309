import type { PlatformConfig, PlatformEnv } from '@llmops/config';
import {
  kubeConnectionFromEnv,
  loadKubeConfig,
  type GpuTypeInfo,
  type KubeError,
} from '@llmops/integrations-kubernetes';
import type { DeploymentSpec } from '@llmops/spec';
import type { ServingDriver } from '../backend.ts';
import { gpuTypeFor, type ServingBackendConfig } from '../deployment-manifest.ts';
import { createKubernetesServingDriver } from './driver.ts';

type KubeEnv = Pick<
  PlatformEnv,
  | 'KUBERNETES_API_URL'
  | 'KUBERNETES_TOKEN'
  | 'KUBERNETES_CA_FILE'
  | 'KUBECONFIG'
  | 'KUBERNETES_CONTEXT'
  | 'ENVIRONMENT'
>;

/**
 * The KServe or Ray Serve driver for the configured backend (servingBackendFromEnv), connected as the
 * environment says (kubeConnectionFromEnv). Throws a message naming the variables to set when no
 * Kubernetes API is configured, and for the local backend (it has its own driver). With the platform
 * configuration, GPU replicas get the GPU type gpuTypeFor picks in the platform's ENVIRONMENT.
 */
export function kubernetesServingDriverFromEnv(
  env: KubeEnv,
  backend: ServingBackendConfig,
  opts: {
    config?: PlatformConfig;
    gpuTypeFor?: (spec: DeploymentSpec) => GpuTypeInfo | null;
    onWatchError?: (e: KubeError) => void;
    inCluster?: boolean;
  } = {},
): ServingDriver {
  if (backend.backend === 'local')
    throw new Error('the local serving backend has no Kubernetes driver; use createLocalServingDriver');
  const conn = kubeConnectionFromEnv(env, opts.inCluster);
  if (!conn)
    throw new Error(
      `SERVING_FRAMEWORK_DEFAULT=${backend.backend} needs a Kubernetes API: set KUBERNETES_API_URL (with KUBERNETES_TOKEN or KUBERNETES_TOKEN_FILE) or KUBECONFIG, or run the platform in a pod with a service account`,
    );
  return createKubernetesServingDriver({
    framework: backend.backend,
    client: { kubeConfig: loadKubeConfig(conn) },
    namespace: backend.namespace,
    ...(opts.gpuTypeFor
      ? { gpuTypeFor: opts.gpuTypeFor }
      : opts.config
        ? { gpuTypeFor: (spec: DeploymentSpec) => gpuTypeFor(opts.config!, env.ENVIRONMENT, spec) }
        : {}),
    ...(opts.onWatchError ? { onWatchError: opts.onWatchError } : {}),
  });
}
