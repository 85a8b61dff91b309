import {
  appliedOver,
  INFERENCE_SERVICES,
  isKubeError,
  KubeError,
  MANIFEST_KEYS,
  toInferenceService,
  type KubeObject,
} from '@llmops/integrations-kubernetes';
import type { RevisionDeployment, RevisionStatus, ServingDriver, TrafficWeights } from '../backend.ts';
import { inferenceServiceRevisionStatus, REVISION_KEYS } from './revision-status.ts';
import { waitForRevision, type DriverContext } from './shared.ts';

/** KServe tags the previous and latest revisions' URLs when this annotation is "true". */
export const TAG_ROUTING_ANNOTATION = 'serving.kserve.io/enable-tag-routing';

type Predictor = Record<string, unknown> & { canaryTrafficPercent?: number };
const predictorOf = (o: KubeObject) => (o.spec?.predictor ?? {}) as Predictor;

/**
 * The InferenceService of a revision: the converter's manifest in Serverless mode (revisions side by
 * side and canaryTrafficPercent need Knative), with tag routing on, the revision id on the object and
 * on the predictor (so that every revision is a new Knative revision), and no canary: the first
 * revision takes all traffic, later ones start at 0 % (see deploy).
 */
export function inferenceServiceFor(d: RevisionDeployment, ctx: DriverContext): KubeObject {
  const isvc = toInferenceService(d.spec, {
    endpointId: d.endpointId,
    name: d.endpointName,
    namespace: ctx.namespace,
    project: d.projectSlug,
    modelVersion: d.model.version,
    storageUri: d.model.storageUri,
    image: d.image,
    gpuType: ctx.gpuTypeFor(d.spec),
    replicas: { min: d.replicas, max: d.replicas },
    deploymentMode: 'Serverless',
  });
  delete isvc.spec.predictor.canaryTrafficPercent;
  const o = isvc as unknown as KubeObject;
  o.metadata.annotations = {
    ...o.metadata.annotations,
    [TAG_ROUTING_ANNOTATION]: 'true',
    [REVISION_KEYS.revision]: d.revisionId,
  };
  (o.spec!.predictor as Predictor).annotations = { [REVISION_KEYS.revision]: d.revisionId };
  return o;
}

function refuse(operation: string, message: string): KubeError {
  return new KubeError({
    code: 'CONFLICT',
    reason: 'RolloutInProgress',
    operation,
    message,
    retryable: false,
  });
}

/**
 * ServingDriver 'kserve': one InferenceService per endpoint. A new revision replaces the predictor
 * (the old predictor is kept in an annotation) with canaryTrafficPercent 0; setTraffic moves
 * canaryTrafficPercent; 100 % to the new revision clears it (promotion); removing the new revision
 * restores the old predictor with the traffic pinned to the old revision; removing the only revision
 * deletes the InferenceService. See docs/decisions/0016-kubernetes-serving-driver.md.
 */
export function createKServeDriver(ctx: DriverContext): ServingDriver {
  const { client, namespace, objects } = ctx;
  const names = new Map<string, string>(); // endpointId → InferenceService name

  const belongsTo = (endpointId: string) => (o: KubeObject) =>
    o.metadata.annotations?.[MANIFEST_KEYS.endpointId] === endpointId;
  const cachedName = (endpointId: string) =>
    names.get(endpointId) ?? objects.all().find(belongsTo(endpointId))?.metadata.name;

  async function nameOf(endpointId: string): Promise<string | null> {
    const known = cachedName(endpointId);
    if (known) return known;
    const match = belongsTo(endpointId);
    let found: KubeObject | undefined;
    if (!found) {
      const { items } = await client.list(INFERENCE_SERVICES, namespace, {
        labelSelector: `${MANIFEST_KEYS.managedBy}=llmops`,
      });
      items.forEach((o) => objects.remember(o));
      found = items.find(match);
    }
    if (found) names.set(endpointId, found.metadata.name);
    return found?.metadata.name ?? null;
  }

  async function status(endpointId: string, revisionId: string): Promise<RevisionStatus> {
    const name = await nameOf(endpointId);
    const isvc = name ? await objects.current(name) : null;
    return inferenceServiceRevisionStatus(isvc, endpointId, revisionId);
  }

  /** Read-modify-write of the endpoint's InferenceService, recording the result. */
  async function update(name: string, mutate: (o: KubeObject) => KubeObject | null) {
    const o = await client.update(INFERENCE_SERVICES, namespace, name, mutate);
    if (o) objects.remember(o);
    return o;
  }

  return {
    name: 'kserve',
    splitsTraffic: true,

    async deploy(d) {
      const desired = inferenceServiceFor(d, ctx);
      const name = desired.metadata.name;
      const op = `deploy revision ${d.revisionId} to InferenceService ${namespace}/${name}`;
      names.set(d.endpointId, name);
      objects.ensureWatching();
      try {
        objects.remember(await client.create(INFERENCE_SERVICES, namespace, desired));
        return status(d.endpointId, d.revisionId);
      } catch (e) {
        if (!(isKubeError(e) && e.reason === 'AlreadyExists')) throw e;
      }
      await update(name, (cur) => {
        const a = cur.metadata.annotations ?? {};
        if (a[MANIFEST_KEYS.endpointId] !== d.endpointId)
          throw refuse(
            op,
            `the InferenceService belongs to endpoint ${a[MANIFEST_KEYS.endpointId] ?? '(none)'}; give the endpoint another name`,
          );
        if (a[REVISION_KEYS.revision] === d.revisionId || a[REVISION_KEYS.previous] === d.revisionId)
          return null; // deployed already
        if (a[REVISION_KEYS.previous])
          throw refuse(
            op,
            `revisions ${a[REVISION_KEYS.previous]} and ${a[REVISION_KEYS.revision]} are both live; promote or remove one first`,
          );
        const next = appliedOver(cur, desired);
        const old = structuredClone(predictorOf(cur));
        delete old.canaryTrafficPercent;
        predictorOf(next).canaryTrafficPercent = 0;
        next.metadata.annotations = {
          ...next.metadata.annotations,
          [REVISION_KEYS.previous]: a[REVISION_KEYS.revision] ?? '',
          [REVISION_KEYS.previousPredictor]: JSON.stringify(old),
        };
        return next;
      });
      return status(d.endpointId, d.revisionId);
    },

    status,

    waitReady(endpointId, revisionId, opts) {
      return waitForRevision(
        ctx,
        revisionId,
        { status: () => status(endpointId, revisionId), objectName: () => nameOf(endpointId) },
        opts,
      );
    },

    async setTraffic(endpointId: string, weights: TrafficWeights) {
      const name = await nameOf(endpointId);
      if (!name) return;
      await update(name, (cur) => {
        const a = cur.metadata.annotations ?? {};
        const latest = a[REVISION_KEYS.revision];
        const previous = a[REVISION_KEYS.previous];
        if (!previous) return null; // one revision: it has all the traffic
        const unknown = Object.keys(weights).filter(
          (id) => id !== latest && id !== previous && weights[id]! > 0,
        );
        if (unknown.length > 0)
          throw new KubeError({
            code: 'INVALID',
            operation: `set traffic of InferenceService ${namespace}/${name}`,
            message: `revisions ${unknown.join(', ')} are not in this InferenceService (it runs ${latest} and ${previous})`,
          });
        const share = Math.round(weights[latest!] ?? 0);
        if (share >= 100) delete predictorOf(cur).canaryTrafficPercent;
        else predictorOf(cur).canaryTrafficPercent = Math.max(0, share);
        return cur;
      });
    },

    async remove(endpointId, revisionId) {
      const name = await nameOf(endpointId);
      if (!name) return;
      const cur = await objects.read(name);
      if (!cur) return;
      const a = cur.metadata.annotations ?? {};
      if (a[REVISION_KEYS.revision] === revisionId && !a[REVISION_KEYS.previous]) {
        await client.delete(INFERENCE_SERVICES, namespace, name);
        objects.forget(name);
        names.delete(endpointId);
        return;
      }
      await update(name, (o) => {
        const ann = { ...(o.metadata.annotations ?? {}) };
        if (ann[REVISION_KEYS.previous] === revisionId) {
          // The old revision goes: the new one keeps (or takes) all the traffic.
          delete predictorOf(o).canaryTrafficPercent;
        } else if (ann[REVISION_KEYS.revision] === revisionId && ann[REVISION_KEYS.previous]) {
          // The new revision goes: the old predictor comes back, traffic pinned to the old revision.
          const restored = JSON.parse(ann[REVISION_KEYS.previousPredictor] ?? '{}') as Predictor;
          o.spec = { ...o.spec, predictor: { ...restored, canaryTrafficPercent: 0 } };
          ann[REVISION_KEYS.revision] = ann[REVISION_KEYS.previous]!;
          ann[REVISION_KEYS.restored] = 'true';
        } else return null;
        delete ann[REVISION_KEYS.previous];
        delete ann[REVISION_KEYS.previousPredictor];
        o.metadata.annotations = ann;
        return o;
      });
    },

    target(endpointId, revisionId) {
      const name = cachedName(endpointId);
      const isvc = name ? objects.cached(name) : undefined;
      if (!isvc) return null;
      const s = inferenceServiceRevisionStatus(isvc, endpointId, revisionId);
      return s.state === 'ready' ? (s.replicas.find((r) => r.url)?.url ?? null) : null;
    },

    async close() {
      objects.stop();
    },
  };
}
