import { createHash } from 'node:crypto';
import {
  isKubeError,
  KubeError,
  MANIFEST_KEYS,
  MAX_NAME_LENGTH,
  RAY_SERVICES,
  toDns1035,
  toRayService,
  type KubeObject,
} from '@llmops/integrations-kubernetes';
import type { RevisionDeployment, RevisionStatus, ServingDriver } from '../backend.ts';
import { rayServiceRevisionStatus, REVISION_KEYS } from './revision-status.ts';
import { waitForRevision, type DriverContext } from './shared.ts';

/** Port of the Serve HTTP proxy in the service KubeRay creates for a RayService (`<name>-serve-svc`). */
export const RAY_SERVE_PORT = 8000;

/**
 * The RayService name of a revision: the endpoint's name (or id) as DNS-1035, cut to leave room, then
 * 8 hex characters of the revision id's sha256, so every revision has its own RayService and the same
 * revision always the same name.
 */
export function rayServiceName(d: Pick<RevisionDeployment, 'endpointName' | 'endpointId' | 'revisionId'>) {
  const base = toDns1035(d.endpointName ?? d.endpointId, d.endpointName != null ? 'name' : 'endpointId');
  const hash = createHash('sha256').update(d.revisionId).digest('hex').slice(0, 8);
  return `${base.slice(0, MAX_NAME_LENGTH - 9).replace(/-+$/, '')}-${hash}`;
}

export function defaultRayServeUrl(name: string, namespace: string): string {
  return `http://${name}-serve-svc.${namespace}.svc:${RAY_SERVE_PORT}`;
}

/**
 * The RayService of one revision: the converter's manifest (model_id stays the endpoint's name, so the
 * OpenAI `model` field does not change between revisions) under the revision's own name and label.
 */
export function rayServiceFor(d: RevisionDeployment, ctx: DriverContext): KubeObject {
  const rs = toRayService(d.spec, {
    endpointId: d.endpointId,
    name: d.endpointName,
    namespace: ctx.namespace,
    project: d.projectSlug,
    modelVersion: d.model.version,
    storageUri: d.model.storageUri,
    image: d.image,
    gpuType: ctx.gpuTypeFor(d.spec),
    replicas: { min: d.replicas, max: d.replicas },
  }) as unknown as KubeObject;
  rs.metadata.name = rayServiceName(d);
  rs.metadata.annotations = { ...rs.metadata.annotations, [REVISION_KEYS.revision]: d.revisionId };
  if (/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(d.revisionId))
    rs.metadata.labels = { ...rs.metadata.labels, [REVISION_KEYS.revision]: d.revisionId };
  return rs;
}

/**
 * ServingDriver 'ray': one RayService per revision. A RayService cannot hold two model versions with a
 * traffic split between them (its upgrade strategies only replace the whole cluster), so the platform's
 * router splits traffic between the revisions' Serve URLs: splitsTraffic is false and setTraffic does
 * nothing. See docs/decisions/0016-kubernetes-serving-driver.md.
 */
export function createRayDriver(
  ctx: DriverContext,
  serveUrl: (name: string, namespace: string) => string = defaultRayServeUrl,
): ServingDriver {
  const { client, namespace, objects } = ctx;
  const names = new Map<string, string>(); // revisionId → RayService name

  const cachedName = (revisionId: string) =>
    names.get(revisionId) ??
    objects.all().find((o) => o.metadata.annotations?.[REVISION_KEYS.revision] === revisionId)?.metadata.name;

  async function nameOf(revisionId: string): Promise<string | null> {
    const cached = cachedName(revisionId);
    if (cached) return cached;
    const { items } = await client.list(RAY_SERVICES, namespace, {
      labelSelector: `${MANIFEST_KEYS.managedBy}=llmops`,
    });
    items.forEach((o) => objects.remember(o));
    const name = items.find((o) => o.metadata.annotations?.[REVISION_KEYS.revision] === revisionId)?.metadata
      .name;
    if (name) names.set(revisionId, name);
    return name ?? null;
  }

  async function status(endpointId: string, revisionId: string): Promise<RevisionStatus> {
    const name = await nameOf(revisionId);
    const rs = name ? await objects.current(name) : null;
    return rayServiceRevisionStatus(rs, endpointId, revisionId, name ? serveUrl(name, namespace) : '');
  }

  return {
    name: 'ray',
    splitsTraffic: false,

    async deploy(d) {
      const desired = rayServiceFor(d, ctx);
      const name = desired.metadata.name;
      names.set(d.revisionId, name);
      objects.ensureWatching();
      const existing = await objects.read(name);
      const owner = existing?.metadata.annotations?.[REVISION_KEYS.revision];
      if (existing && owner !== d.revisionId)
        throw new KubeError({
          code: 'CONFLICT',
          reason: 'AlreadyExists',
          operation: `deploy revision ${d.revisionId} as RayService ${namespace}/${name}`,
          message: `the RayService belongs to revision ${owner ?? '(none)'}`,
        });
      if (!existing) {
        try {
          objects.remember(await client.create(RAY_SERVICES, namespace, desired));
        } catch (e) {
          if (!(isKubeError(e) && e.reason === 'AlreadyExists')) throw e;
        }
      }
      return status(d.endpointId, d.revisionId);
    },

    status,

    waitReady(endpointId, revisionId, opts) {
      return waitForRevision(
        ctx,
        revisionId,
        { status: () => status(endpointId, revisionId), objectName: () => nameOf(revisionId) },
        opts,
      );
    },

    async setTraffic() {
      // The platform's router splits traffic between the revisions' RayServices.
    },

    async remove(_endpointId, revisionId) {
      const name = await nameOf(revisionId);
      if (!name) return;
      await client.delete(RAY_SERVICES, namespace, name);
      objects.forget(name);
      names.delete(revisionId);
    },

    target(endpointId, revisionId) {
      const name = cachedName(revisionId);
      const rs = name ? objects.cached(name) : undefined;
      if (!name || !rs) return null;
      const s = rayServiceRevisionStatus(rs, endpointId, revisionId, serveUrl(name, namespace));
      return s.state === 'ready' ? serveUrl(name, namespace) : null;
    },

    async close() {
      objects.stop();
    },
  };
}
