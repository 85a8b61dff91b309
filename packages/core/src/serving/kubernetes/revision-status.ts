import {
  condition,
  readInferenceServiceStatus,
  readRayServiceStatus,
  type KubeObject,
} from '@llmops/integrations-kubernetes';
import type { ReplicaState, ReplicaStatus, RevisionState, RevisionStatus } from '../backend.ts';

/** Annotations the drivers keep on the objects they manage. */
export const REVISION_KEYS = {
  /** The revision the object (KServe: its predictor) runs now. */
  revision: 'llmops/revision-id',
  /** KServe: the revision still in the InferenceService's traffic while a rollout runs. */
  previous: 'llmops/previous-revision-id',
  /** KServe: the previous revision's predictor, to restore when the new one is removed. */
  previousPredictor: 'llmops/previous-predictor',
  /** KServe: the predictor was restored by a rollback; traffic stays on the old Knative revision. */
  restored: 'llmops/restored',
} as const;

/** KServe's model states that need a new spec to recover. */
const KSERVE_FAILED_TRANSITIONS = ['BlockedByFailedLoad', 'InvalidSpec'];
/** Condition reasons Knative and KServe give for a revision that cannot start. */
const KSERVE_FAILED_REASONS = ['RevisionFailed', 'RevisionMissing', 'ContainerMissing', 'ExitCode'];

function replicasFrom(
  state: RevisionState,
  url: string | null,
  message: string | null,
  counts: { ready: number; total: number } | null,
  name: string,
): ReplicaStatus[] {
  const replicaState: ReplicaState =
    state === 'ready'
      ? 'ready'
      : state === 'failed'
        ? 'failed'
        : state === 'removed'
          ? 'stopped'
          : 'starting';
  if (!counts || counts.total <= 0)
    return [{ id: name, state: replicaState, url, message: state === 'ready' ? null : message, restarts: 0 }];
  return Array.from({ length: counts.total }, (_, i) => {
    const s: ReplicaState = i < counts.ready ? 'ready' : state === 'failed' ? 'failed' : 'starting';
    return {
      id: `${name}-${i}`,
      state: s,
      url: s === 'ready' ? url : null,
      message: s === 'ready' ? null : message,
      restarts: 0,
    };
  });
}

function removed(endpointId: string, revisionId: string, message: string): RevisionStatus {
  return { endpointId, revisionId, state: 'removed', replicas: [], message };
}

/**
 * A platform revision's state read from its endpoint's InferenceService: the revision in the predictor
 * (annotation llmops/revision-id) is ready once the controller has seen the spec, the latest created
 * Knative revision is the latest ready one and PredictorReady is True; the previous revision is ready
 * while it is still in the traffic. URLs: the tagged revision URL when tag routing reports one, else the
 * InferenceService URL.
 */
export function inferenceServiceRevisionStatus(
  isvc: KubeObject | null,
  endpointId: string,
  revisionId: string,
): RevisionStatus {
  if (!isvc) return removed(endpointId, revisionId, 'the InferenceService does not exist');
  if (isvc.metadata.deletionTimestamp)
    return removed(endpointId, revisionId, 'the InferenceService is being deleted');
  const a = isvc.metadata.annotations ?? {};
  const s = readInferenceServiceStatus(isvc);
  const details = {
    kind: 'InferenceService',
    name: isvc.metadata.name,
    namespace: isvc.metadata.namespace,
    url: s.url,
    conditions: s.conditions,
    traffic: s.predictor.traffic,
    canaryTrafficPercent: s.canaryTrafficPercent,
    latestReadyRevision: s.predictor.latestReadyRevision,
    latestCreatedRevision: s.predictor.latestCreatedRevision,
    previousRolledoutRevision: s.predictor.previousRolledoutRevision,
  };
  const counts = s.copies ? { ready: s.copies.total - s.copies.failed, total: s.copies.total } : null;
  const out = (state: RevisionState, message: string | null, url: string | null): RevisionStatus => ({
    endpointId,
    revisionId,
    state,
    message,
    replicas: replicasFrom(state, url, message, state === 'ready' ? counts : null, 'predictor'),
    details,
  });
  const tagged = (tag: string) => s.predictor.traffic.find((t) => t.tag === tag)?.url ?? null;

  if (a[REVISION_KEYS.previous] === revisionId) {
    const prevName = s.predictor.previousRolledoutRevision;
    const inTraffic = s.predictor.traffic.some(
      (t) => t.tag === 'prev' || (prevName !== null && t.revisionName === prevName),
    );
    if (inTraffic || !s.upToDate) return out('ready', null, tagged('prev') ?? s.url);
    return out('deploying', 'the previous revision is not in the InferenceService traffic', null);
  }
  if (a[REVISION_KEYS.revision] !== revisionId)
    return removed(
      endpointId,
      revisionId,
      `the InferenceService ${isvc.metadata.name} no longer runs this revision`,
    );

  if (a[REVISION_KEYS.restored] === 'true') {
    // After a rollback the old Knative revision keeps the traffic while Knative remakes it from the
    // restored spec: the revision serves through the InferenceService URL meanwhile.
    const prevName = s.predictor.previousRolledoutRevision;
    const serving = s.predictor.traffic.some(
      (t) => t.percent > 0 && (t.tag === 'prev' || (prevName !== null && t.revisionName === prevName)),
    );
    if ((serving || !s.upToDate) && s.url) return out('ready', null, s.url);
  }
  if (!s.upToDate) return out('deploying', 'waiting for the KServe controller to act on the new spec', null);
  if (s.transitionStatus && KSERVE_FAILED_TRANSITIONS.includes(s.transitionStatus))
    return out('failed', `${s.transitionStatus}: ${s.failure ?? 'the model could not be loaded'}`, null);
  const predictorReady = condition(s.conditions, 'PredictorReady');
  if (predictorReady?.status === 'False' && KSERVE_FAILED_REASONS.includes(predictorReady.reason ?? ''))
    return out('failed', `${predictorReady.reason}: ${predictorReady.message ?? ''}`.trim(), null);
  const latest = s.predictor.latestCreatedRevision;
  const ready =
    predictorReady?.status === 'True' && latest !== null && latest === s.predictor.latestReadyRevision;
  const url = a[REVISION_KEYS.previous] ? (tagged('latest') ?? s.url) : s.url;
  if (ready && url) return out('ready', null, url);
  const waiting = s.conditions.find((c) => c.status !== 'True' && c.message);
  return out(
    'deploying',
    waiting ? `${waiting.type}: ${waiting.message}` : 'the predictor is not ready yet',
    null,
  );
}

/** A revision's state read from its own RayService; `url` is where its Serve service answers. */
export function rayServiceRevisionStatus(
  rs: KubeObject | null,
  endpointId: string,
  revisionId: string,
  url: string,
): RevisionStatus {
  if (!rs) return removed(endpointId, revisionId, 'the RayService does not exist');
  if (rs.metadata.deletionTimestamp)
    return removed(endpointId, revisionId, 'the RayService is being deleted');
  const s = readRayServiceStatus(rs);
  const details = {
    kind: 'RayService',
    name: rs.metadata.name,
    namespace: rs.metadata.namespace,
    url,
    serviceStatus: s.serviceStatus,
    conditions: s.conditions,
    applications: s.active.applications,
    pendingApplications: s.pending.applications,
    workers: s.workers,
  };
  const counts =
    s.workers.desired !== null ? { ready: s.workers.ready ?? 0, total: s.workers.desired } : null;
  const out = (state: RevisionState, message: string | null): RevisionStatus => ({
    endpointId,
    revisionId,
    state,
    message,
    replicas: replicasFrom(state, state === 'ready' ? url : null, message, counts, 'serve'),
    details,
  });
  if (s.failure) return out('failed', s.failure);
  if (s.upToDate && s.ready) return out('ready', null);
  return out(
    'deploying',
    s.upToDate ? `RayService ${s.serviceStatus ?? 'not running yet'}` : 'waiting for the KubeRay operator',
  );
}
