import type { KubeObject } from './resources.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string | null;
  message: string | null;
}

export interface TrafficTarget {
  revisionName: string | null;
  percent: number;
  latestRevision: boolean;
  tag: string | null;
  url: string | null;
}

/** What the KServe controller reports on an InferenceService, read defensively. */
export interface InferenceServiceStatus {
  /** metadata.generation, and the generation the controller has acted on (null: not yet). */
  generation: number | null;
  observedGeneration: number | null;
  /** The controller has seen the latest spec. */
  upToDate: boolean;
  conditions: Condition[];
  ready: boolean;
  url: string | null;
  predictor: {
    url: string | null;
    latestCreatedRevision: string | null;
    latestReadyRevision: string | null;
    latestRolledoutRevision: string | null;
    previousRolledoutRevision: string | null;
    traffic: TrafficTarget[];
  };
  /** spec.predictor.canaryTrafficPercent: the share of the latest revision while a canary runs. */
  canaryTrafficPercent: number | null;
  /** modelStatus.transitionStatus (UpToDate, InProgress, BlockedByFailedLoad, InvalidSpec). */
  transitionStatus: string | null;
  failure: string | null;
  copies: { total: number; failed: number } | null;
}

type J = Record<string, unknown>;
const objOf = (v: unknown): J => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as J) : {});
const strOf = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const numOf = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function conditionsOf(list: unknown): Condition[] {
  if (!Array.isArray(list)) return [];
  return list.map((c) => {
    const o = objOf(c);
    const status = o.status === 'True' || o.status === 'False' ? o.status : 'Unknown';
    return { type: String(o.type ?? ''), status, reason: strOf(o.reason), message: strOf(o.message) };
  });
}

export function condition(conditions: Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

function generationOf(o: KubeObject, status: J) {
  const generation = numOf(o.metadata.generation);
  const observedGeneration = numOf(status.observedGeneration);
  return {
    generation,
    observedGeneration,
    upToDate: generation === null || (observedGeneration !== null && observedGeneration >= generation),
  };
}

export function readInferenceServiceStatus(isvc: KubeObject): InferenceServiceStatus {
  const status = objOf(isvc.status);
  const conditions = conditionsOf(status.conditions);
  const predictor = objOf(objOf(status.components).predictor);
  const traffic = Array.isArray(predictor.traffic)
    ? predictor.traffic.map((t) => {
        const o = objOf(t);
        return {
          revisionName: strOf(o.revisionName),
          percent: numOf(o.percent) ?? 0,
          latestRevision: o.latestRevision === true,
          tag: strOf(o.tag),
          url: strOf(o.url),
        };
      })
    : [];
  const modelStatus = objOf(status.modelStatus);
  const lastFailure = objOf(modelStatus.lastFailureInfo);
  const copies = objOf(modelStatus.copies);
  const failed = conditions.find((c) => c.status === 'False' && c.message !== null);
  return {
    ...generationOf(isvc, status),
    conditions,
    ready: condition(conditions, 'Ready')?.status === 'True',
    url: strOf(status.url),
    predictor: {
      url: strOf(predictor.url),
      latestCreatedRevision: strOf(predictor.latestCreatedRevision),
      latestReadyRevision: strOf(predictor.latestReadyRevision),
      latestRolledoutRevision: strOf(predictor.latestRolledoutRevision),
      previousRolledoutRevision: strOf(predictor.previousRolledoutRevision),
      traffic,
    },
    canaryTrafficPercent: numOf(objOf(objOf(isvc.spec).predictor).canaryTrafficPercent),
    transitionStatus: strOf(modelStatus.transitionStatus),
    failure: strOf(lastFailure.message) ?? failed?.message ?? null,
    copies:
      numOf(copies.totalCopies) === null
        ? null
        : { total: numOf(copies.totalCopies)!, failed: numOf(copies.failedCopies) ?? 0 },
  };
}

export interface RayApplicationStatus {
  name: string;
  status: string | null;
  message: string | null;
}

/** What KubeRay reports on a RayService, read defensively. */
export interface RayServiceStatus {
  generation: number | null;
  observedGeneration: number | null;
  upToDate: boolean;
  /** status.serviceStatus: "Running" once the active cluster serves every application. */
  serviceStatus: string | null;
  conditions: Condition[];
  ready: boolean;
  active: { clusterName: string | null; applications: RayApplicationStatus[] };
  pending: { clusterName: string | null; applications: RayApplicationStatus[] };
  /** Replicas of the active cluster's workers: ready and desired (null when not reported). */
  workers: { ready: number | null; desired: number | null };
  /** A failed application's message (DEPLOY_FAILED or UNHEALTHY), else null. */
  failure: string | null;
}

/** Ray Serve application states that will not recover without a new config. */
export const RAY_FAILED_APP_STATES = ['DEPLOY_FAILED', 'UNHEALTHY'];

function applicationsOf(serviceStatus: unknown): {
  clusterName: string | null;
  applications: RayApplicationStatus[];
} {
  const s = objOf(serviceStatus);
  return {
    clusterName: strOf(s.rayClusterName),
    applications: Object.entries(objOf(s.applicationStatuses)).map(([name, a]) => ({
      name,
      status: strOf(objOf(a).status),
      message: strOf(objOf(a).message),
    })),
  };
}

export function readRayServiceStatus(rs: KubeObject): RayServiceStatus {
  const status = objOf(rs.status);
  const conditions = conditionsOf(status.conditions);
  const active = applicationsOf(status.activeServiceStatus);
  const pending = applicationsOf(status.pendingServiceStatus);
  const cluster = objOf(objOf(status.activeServiceStatus).rayClusterStatus);
  const serviceStatus = strOf(status.serviceStatus);
  const readyCondition = condition(conditions, 'Ready');
  const failedApp = [...active.applications, ...pending.applications].find(
    (a) => a.status !== null && RAY_FAILED_APP_STATES.includes(a.status),
  );
  return {
    ...generationOf(rs, status),
    serviceStatus,
    conditions,
    ready:
      readyCondition !== undefined
        ? readyCondition.status === 'True'
        : serviceStatus === 'Running' &&
          active.applications.length > 0 &&
          active.applications.every((a) => a.status === 'RUNNING'),
    active,
    pending,
    workers: { ready: numOf(cluster.readyWorkerReplicas), desired: numOf(cluster.desiredWorkerReplicas) },
    failure: failedApp ? `${failedApp.name}: ${failedApp.status} ${failedApp.message ?? ''}`.trim() : null,
  };
}
