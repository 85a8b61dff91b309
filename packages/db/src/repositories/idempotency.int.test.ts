import { createTestDb, seedProject, testDbKind } from '@llmops/testing';
import type { SeededProject, TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../sql.ts';
import type { JobRow } from './jobs.ts';

let db: TestDb;
let home: SeededProject;
beforeAll(async () => {
  db = await createTestDb();
  home = await seedProject(db);
});
afterAll(async () => {
  await db.cleanup();
});

/** An idempotent job submission as the training service does it, counting real creations. */
function submitter(projectId: string) {
  let creates = 0;
  const submit = (key: string, requestHash: string, fail = false) =>
    db.repos.idempotency.run<JobRow>({
      projectId,
      key,
      requestHash,
      resourceType: 'training_job',
      ttlHours: 24,
      create: async (tx: Sql) => {
        creates += 1;
        const job = await db.repos.jobs.create(
          {
            projectId,
            submissionKind: 'finetune',
            spec: { n: creates },
            specHash: requestHash,
            createdBy: 'u',
          },
          tx,
        );
        if (fail) throw new Error('admission failed');
        return { id: job.id, value: job };
      },
      load: async (id) => (await db.repos.jobs.getById(projectId, id))!,
    });
  return { submit, creates: () => creates };
}

const jobCount = async (projectId: string) =>
  (await db.repos.jobs.list(projectId, { limit: 1000, offset: 0 })).total;

describe(`idempotent create (${testDbKind()})`, () => {
  it('creates exactly one job for 50 concurrent submissions with one key and one body', async () => {
    const { project } = await seedProject(db);
    const { submit, creates } = submitter(project.id);
    const results = await Promise.all(Array.from({ length: 50 }, () => submit('key-50', 'hash-a')));
    expect(creates()).toBe(1);
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'replayed')).toHaveLength(49);
    const ids = new Set(results.map((r) => (r.outcome === 'mismatch' ? null : r.value.id)));
    expect(ids.size).toBe(1);
    expect(await jobCount(project.id)).toBe(1);
  });

  it('replays the original job for a later retry with the same key and body', async () => {
    const { submit } = submitter(home.project.id);
    const first = await submit('retry', 'hash-a');
    const again = await submit('retry', 'hash-a');
    expect(first.outcome).toBe('created');
    expect(again).toEqual({ outcome: 'replayed', value: first.outcome === 'created' ? first.value : null });
  });

  it('reports a mismatch with the existing job for the same key and another body', async () => {
    const { submit } = submitter(home.project.id);
    const first = await submit('reused', 'hash-a');
    const other = await submit('reused', 'hash-b');
    expect(other).toEqual({
      outcome: 'mismatch',
      existingResourceId: first.outcome === 'created' ? first.value.id : 'unexpected',
    });
  });

  it('scopes keys per project', async () => {
    const a = await seedProject(db);
    const b = await seedProject(db);
    expect((await submitter(a.project.id).submit('k', 'h')).outcome).toBe('created');
    expect((await submitter(b.project.id).submit('k', 'h')).outcome).toBe('created');
  });

  it('frees the key when create throws, leaving no job behind', async () => {
    const { project } = await seedProject(db);
    const { submit, creates } = submitter(project.id);
    await expect(submit('flaky', 'hash-a', true)).rejects.toThrow('admission failed');
    expect(await jobCount(project.id)).toBe(0);
    const retry = await submit('flaky', 'hash-a');
    expect(retry.outcome).toBe('created');
    expect(creates()).toBe(2);
  });

  it('treats an expired key as new and purges expired keys', async () => {
    const { project } = await seedProject(db);
    const { submit } = submitter(project.id);
    const first = await submit('old', 'hash-a');
    await db.sql.query(
      "UPDATE idempotency_keys SET expires_at = now() - interval '1 hour' WHERE project_id = $1 AND key = $2",
      [project.id, 'old'],
    );
    const second = await submit('old', 'hash-b');
    expect(second.outcome).toBe('created');
    expect(
      second.outcome === 'created' && first.outcome === 'created' && second.value.id !== first.value.id,
    ).toBe(true);
    await db.sql.query(
      "UPDATE idempotency_keys SET expires_at = now() - interval '1 hour' WHERE project_id = $1",
      [project.id],
    );
    expect(await db.repos.idempotency.purgeExpired()).toBeGreaterThanOrEqual(1);
    const [left] = await db.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM idempotency_keys WHERE project_id = $1',
      [project.id],
    );
    expect(left?.n).toBe(0);
  });

  it('rejects a bad ttl or key with a precise error', async () => {
    const run = (key: string, ttlHours: number) =>
      db.repos.idempotency.run({
        projectId: home.project.id,
        key,
        requestHash: 'h',
        resourceType: 'training_job',
        ttlHours,
        create: async () => ({ id: 'x', value: 1 }),
        load: async () => 1,
      });
    await expect(run('k', 0)).rejects.toThrow('ttlHours must be a positive number, got 0');
    await expect(run('', 24)).rejects.toThrow('idempotency key must have 1 to 255 characters, got 0');
  });
});
