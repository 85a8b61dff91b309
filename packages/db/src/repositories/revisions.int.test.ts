import { createTestDb, seedEndpoint, seedProject, testDbKind } from '@llmops/testing';
import type { TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.cleanup();
});

describe(`endpoint events (${testDbKind()})`, () => {
  it('lists from a sequence number, and gives the newest events oldest first', async () => {
    const { project, user } = await seedProject(db);
    const endpoint = await seedEndpoint(db, project.id, user.id);
    const other = await seedEndpoint(db, project.id, user.id);
    for (let i = 1; i <= 60; i++)
      await db.repos.revisions.appendEvent({
        endpointId: i % 10 === 0 ? other.id : endpoint.id,
        type: 'note',
        message: `event ${i}`,
        actor: 'system',
      });
    const all = await db.repos.revisions.listEvents(endpoint.id);
    expect(all.map((e) => e.message)).toHaveLength(54);
    const latest = await db.repos.revisions.latestEvents(endpoint.id, 5);
    expect(latest.map((e) => e.message)).toEqual([
      'event 55',
      'event 56',
      'event 57',
      'event 58',
      'event 59',
    ]);
    expect(latest).toEqual(all.slice(-5));
    const after = await db.repos.revisions.listEvents(endpoint.id, { afterSeq: all[49]!.seq });
    expect(after).toEqual(all.slice(50));
    expect(await db.repos.revisions.latestEvents('not-a-uuid', 5)).toEqual([]);
  });
});
