import { CRD_FILES } from '../crd.ts';

/** A namespaced custom resource type the platform reads and writes. */
export interface CustomResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** The official CRD its objects are validated against. */
  crdFile: string;
}

export const INFERENCE_SERVICES: CustomResource = {
  group: 'serving.kserve.io',
  version: 'v1beta1',
  plural: 'inferenceservices',
  kind: 'InferenceService',
  crdFile: CRD_FILES.inferenceService,
};

export const RAY_SERVICES: CustomResource = {
  group: 'ray.io',
  version: 'v1',
  plural: 'rayservices',
  kind: 'RayService',
  crdFile: CRD_FILES.rayService,
};

/** A Kubernetes object as JSON: apiVersion, kind, metadata, spec, status. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export function describeResource(r: CustomResource): string {
  return `${r.group}/${r.version} ${r.plural}`;
}
