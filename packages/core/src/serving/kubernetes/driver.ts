import {
  createKubeClient,
  INFERENCE_SERVICES,
  MANIFEST_KEYS,
  RAY_SERVICES,
  type GpuTypeInfo,
  type KubeClient,
  type KubeClientOptions,
  type KubeError,
} from '@llmops/integrations-kubernetes';
import type { DeploymentSpec } from '@llmops/spec';
import type { ServingDriver } from '../backend.ts';
import { createKServeDriver } from './kserve-driver.ts';
import { createRayDriver, defaultRayServeUrl } from './ray-driver.ts';
import { WatchedObjects } from './watched-objects.ts';

export interface KubernetesServingDriverOptions {
  framework: 'kserve' | 'ray';
  /** A client, or the KubeConfig to make one with (loadKubeConfig(kubeConnectionFromEnv(env))). */
  client: KubeClient | { kubeConfig: KubeClientOptions['kubeConfig'] };
  /** Namespace of the InferenceServices (KSERVE_NAMESPACE) or RayServices. */
  namespace: string;
  /** GPU type of a spec's replicas (gpuTypeFor in deployment-manifest.ts); default: none (CPU only). */
  gpuTypeFor?: (spec: DeploymentSpec) => GpuTypeInfo | null;
  /** Watch the objects for readiness (default true); without, waiters poll. */
  watch?: boolean;
  /** How often waitReady re-reads when no watch event arrives (default 5 s). */
  pollIntervalMs?: number;
  /** Ray: where a RayService's Serve HTTP proxy answers (default the in-cluster service DNS name). */
  rayServeUrl?: (name: string, namespace: string) => string;
  /** Told about watch drops and reconnection failures (the watch recovers by itself). */
  onWatchError?: (e: KubeError) => void;
}

/**
 * The ServingDriver for KServe ('kserve': one InferenceService per endpoint, KServe splits traffic) or
 * Ray Serve ('ray': one RayService per revision, the platform's router splits traffic). Objects are
 * named after the endpoint, built by the converters of @llmops/integrations-kubernetes, and watched
 * (label app.kubernetes.io/managed-by=llmops) for readiness.
 */
export function createKubernetesServingDriver(opts: KubernetesServingDriverOptions): ServingDriver {
  const client =
    'kubeConfig' in opts.client ? createKubeClient({ kubeConfig: opts.client.kubeConfig }) : opts.client;
  const resource = opts.framework === 'kserve' ? INFERENCE_SERVICES : RAY_SERVICES;
  const objects = new WatchedObjects(client, resource, opts.namespace, {
    labelSelector: `${MANIFEST_KEYS.managedBy}=llmops`,
    enabled: opts.watch ?? true,
    ...(opts.onWatchError ? { onError: opts.onWatchError } : {}),
  });
  const ctx = {
    client,
    namespace: opts.namespace,
    objects,
    gpuTypeFor: opts.gpuTypeFor ?? (() => null),
    pollIntervalMs: opts.pollIntervalMs ?? 5_000,
  };
  // Watch from the start, so that target() knows the objects of earlier processes without a read.
  objects.ensureWatching();
  return opts.framework === 'kserve'
    ? createKServeDriver(ctx)
    : createRayDriver(ctx, opts.rayServeUrl ?? defaultRayServeUrl);
}
