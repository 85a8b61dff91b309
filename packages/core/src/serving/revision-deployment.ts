import type { Db, RevisionRow } from '@llmops/db';
import { LIVE_REVISION_STATES } from '@llmops/db';
import { deploymentSpecSchema } from '@llmops/spec';
import type { RevisionDeployment, ServingDriver } from './backend.ts';

/** What the serving driver needs to run a stored revision; null when its endpoint is gone. */
export async function revisionDeploymentOf(db: Db, rev: RevisionRow): Promise<RevisionDeployment | null> {
  const [endpoint] = await db.repos.endpoints.listAll({ endpointId: rev.endpointId });
  if (!endpoint) return null;
  const project = await db.repos.projects.getById(endpoint.projectId);
  return {
    endpointId: endpoint.id,
    revisionId: rev.id,
    projectSlug: project?.slug ?? endpoint.projectId,
    endpointName: endpoint.name,
    spec: deploymentSpecSchema.parse(rev.spec),
    model: { name: rev.modelRef, version: rev.modelVersion, storageUri: rev.storageUri },
    image: endpoint.image,
    replicas: rev.replicas,
  };
}

/**
 * At start, brings every revision that should be running back up on the driver (the local model servers
 * of a previous platform process were stopped with it). Returns how many were deployed; a revision that
 * cannot be deployed is reported and left to the health watch.
 */
export async function redeployLiveRevisions(
  db: Db,
  driver: ServingDriver,
  report: (line: string) => void = () => {},
): Promise<number> {
  const rows = await db.sql.query<{ id: string }>(
    `SELECT r.id FROM endpoint_revisions r JOIN serving_endpoints e ON e.id = r.endpoint_id
      WHERE r.state = ANY($1::text[]) AND e.status NOT IN ('DELETING', 'DELETED') ORDER BY r.created_at`,
    [`{${LIVE_REVISION_STATES.filter((s) => s !== 'pending').join(',')}}`],
  );
  let deployed = 0;
  for (const { id } of rows) {
    const rev = await db.repos.revisions.getById(id);
    const d = rev && (await revisionDeploymentOf(db, rev));
    if (!d) continue;
    try {
      await driver.deploy(d);
      deployed++;
    } catch (e) {
      report(
        `serving: revision ${rev.seq} of endpoint ${rev.endpointId} could not be deployed: ${(e as Error).message}`,
      );
    }
  }
  return deployed;
}
