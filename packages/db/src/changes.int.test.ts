import { randomUUID } from 'node:crypto';
import { createTestDb, seedEndpoint, seedProject, testDbKind } from '@llmops/testing';
import type { TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from './create-db.ts';
import { CHANGES_CHANNEL, publishChange } from './changes.ts';
import { DbError } from './errors.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling; the database delivers notifications asynchronously. */
async function eventually(check: () => boolean, ms = 5000) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('not delivered in time');
    await tick(20);
  }
}

describe(`change notifications (${testDbKind()})`, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.cleanup();
  });

  /** Keys heard on `topic`; other test files may publish on the same server, so keys are unique. */
  function hear(topic: 'identity' | 'endpoint' | 'routing') {
    const keys: (string | null)[] = [];
    const stop = db.changes.subscribe(topic, (key) => keys.push(key));
    return { keys, stop };
  }

  it('delivers a published change to the subscribers of its topic only', async () => {
    const routing = hear('routing');
    const endpoint = hear('endpoint');
    const key = randomUUID();
    await tick(200); // the LISTEN is sent on first subscription
    await publishChange(db.sql, 'routing', key);
    await eventually(() => routing.keys.includes(key));
    expect(endpoint.keys).not.toContain(key);
    routing.stop();
    endpoint.stop();
  });

  it('delivers a change made in a transaction when it commits, and not at all when it rolls back', async () => {
    const heard = hear('endpoint');
    await tick(100);
    const kept = randomUUID();
    const dropped = randomUUID();
    await db.sql.transaction(async (tx) => {
      await publishChange(tx, 'endpoint', kept);
    });
    await expect(
      db.sql.transaction(async (tx) => {
        await publishChange(tx, 'endpoint', dropped);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await eventually(() => heard.keys.includes(kept));
    await tick(200);
    expect(heard.keys).not.toContain(dropped);
    heard.stop();
  });

  it('ignores notifications on the channel that are not changes', async () => {
    const heard = hear('identity');
    await tick(100);
    await db.sql.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, 'no topic here']);
    await db.sql.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, 'unknown:thing']);
    const key = randomUUID();
    await publishChange(db.sql, 'identity', key);
    await eventually(() => heard.keys.includes(key));
    expect(heard.keys).toEqual([key]);
    heard.stop();
  });

  it('publishes when the repositories change what the request path caches', async () => {
    const endpoints = hear('endpoint');
    const routing = hear('routing');
    await tick(100);
    const { project, user } = await seedProject(db);
    const endpoint = await seedEndpoint(db, project.id, user.id);
    await eventually(() => endpoints.keys.includes(endpoint.id));
    const revision = await db.repos.revisions.create({
      endpointId: endpoint.id,
      projectId: project.id,
      modelId: null,
      modelRef: 'm',
      modelVersion: '1',
      storageUri: 's3://models/m/1',
      spec: {},
      replicas: 1,
      mode: 'blue-green',
      createdBy: user.id,
    });
    await db.repos.revisions.setTraffic(endpoint.id, { [revision.id]: 100 }, null);
    await eventually(() => routing.keys.includes(endpoint.id));
    routing.keys.length = 0;
    await db.repos.revisions.update(revision.id, { message: 'only a message' });
    await db.repos.revisions.update(revision.id, { shadow: false });
    await eventually(() => routing.keys.length > 0);
    endpoints.keys.length = 0;
    await db.repos.endpoints.setStatus(endpoint.id, 'READY');
    await eventually(() => endpoints.keys.includes(endpoint.id));
    endpoints.stop();
    routing.stop();
  });

  it('refuses to listen on a transaction handle', async () => {
    const attempt = db.sql.transaction((tx) => tx.listen(CHANGES_CHANNEL, () => undefined));
    await expect(attempt).rejects.toThrow(DbError);
    await expect(attempt).rejects.toThrow('a transaction handle cannot listen');
  });

  // Only PostgreSQL is shared between processes; one process owns an embedded database.
  if (testDbKind() === 'postgres')
    it('reaches another process sharing the database', async () => {
      const other = await createDb({ kind: 'postgres', url: process.env.DATABASE_URL! });
      try {
        const keys: (string | null)[] = [];
        other.changes.subscribe('routing', (k) => keys.push(k));
        await tick(300);
        const key = randomUUID();
        await publishChange(db.sql, 'routing', key);
        await eventually(() => keys.includes(key));
      } finally {
        await other.close();
      }
    });

  if (testDbKind() === 'postgres')
    it('listens again after its connection is lost, and says changes may have been missed', async () => {
      const url = new URL(process.env.DATABASE_URL!);
      url.searchParams.set('application_name', 'llmops-relisten-test');
      const other = await createDb({ kind: 'postgres', url: url.toString() });
      try {
        const keys: (string | null)[] = [];
        other.changes.subscribe('identity', (k) => keys.push(k));
        await tick(300);
        await db.sql.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'llmops-relisten-test' AND query LIKE 'LISTEN%'`,
        );
        await eventually(() => keys.includes(null));
        const key = randomUUID();
        await publishChange(db.sql, 'identity', key);
        await eventually(() => keys.includes(key));
      } finally {
        await other.close();
      }
    });
});
