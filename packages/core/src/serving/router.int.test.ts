import { createTestDb, seedEndpoint, seedProject, testDbKind, type TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServingRouter } from './router.ts';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => db?.cleanup());

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`serving router (${testDbKind()})`, () => {
  it('keeps a routing table until a traffic change made anywhere is announced', async () => {
    const { project, user } = await seedProject(db);
    const endpoint = await seedEndpoint(db, project.id, user.id);
    const revision = (seq: number) =>
      db.repos.revisions.create({
        endpointId: endpoint.id,
        projectId: project.id,
        modelId: null,
        modelRef: 'm',
        modelVersion: String(seq),
        storageUri: null,
        spec: {},
        replicas: 1,
        mode: 'canary',
        createdBy: user.id,
      });
    const [v1, v2] = [await revision(1), await revision(2)];
    await db.repos.revisions.setTraffic(endpoint.id, { [v1.id]: 100 }, null);
    // A long time limit: only the notice can make the router read again.
    const router = createServingRouter(db, { ttlMs: 3_600_000 });
    await tick(200);
    const shares = async () =>
      Object.fromEntries((await router.table(endpoint.id)).revisions.map((r) => [r.id, r.traffic]));
    expect(await shares()).toEqual({ [v1.id]: 100 });

    // Behind the router's back (as another process would): no invalidate() call.
    await db.sql.query('UPDATE endpoint_revisions SET traffic = 50 WHERE id = $1', [v1.id]);
    expect(await shares()).toEqual({ [v1.id]: 100 });

    await db.repos.revisions.setTraffic(endpoint.id, { [v1.id]: 90, [v2.id]: 10 }, null);
    const until = Date.now() + 5000;
    while ((await shares())[v2.id] !== 10 && Date.now() < until) await tick(20);
    expect(await shares()).toEqual({ [v1.id]: 90, [v2.id]: 10 });
  });
});
