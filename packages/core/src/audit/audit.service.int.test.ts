import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, testDbKind, type TestDb } from '@llmops/testing';
import { createAuditService } from './audit.service.ts';

describe(`audit group commit (${testDbKind()})`, () => {
  let db: TestDb;
  beforeEach(async () => {
    db = await createTestDb();
  });
  afterEach(() => db.cleanup());

  const entry = (i: number) => ({
    actor: `user:${i}`,
    projectId: null,
    action: 'test.write',
    targetType: 'thing',
    targetId: null,
    requestHash: null,
    result: 'success' as const,
    statusCode: 201,
  });

  it('appends concurrent records in fewer transactions, in arrival order, as one valid chain', async () => {
    let transactions = 0;
    const appendMany = db.repos.audit.appendMany.bind(db.repos.audit);
    db.repos.audit.appendMany = async (inputs) => {
      transactions++;
      return appendMany(inputs);
    };
    const audit = createAuditService(db);
    const rows = await Promise.all(Array.from({ length: 100 }, (_, i) => audit.record(entry(i))));
    expect(rows.map((r) => r.actor)).toEqual(Array.from({ length: 100 }, (_, i) => `user:${i}`));
    expect(new Set(rows.map((r) => r.seq)).size).toBe(100);
    expect(transactions).toBeLessThan(100);
    expect(transactions).toBeGreaterThanOrEqual(1);
    expect(await db.repos.audit.verify()).toMatchObject({ ok: true, checked: 100 });
  });

  it('fails the callers of a batch that cannot be written, and keeps working afterwards', async () => {
    const audit = createAuditService(db);
    await expect(audit.record({ ...entry(1), statusCode: 2.5 })).rejects.toThrow(/statusCode/);
    await expect(audit.record(entry(2))).resolves.toMatchObject({ actor: 'user:2' });
  });
});
