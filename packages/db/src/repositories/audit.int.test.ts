import { createTestDb, testDbKind } from '@llmops/testing';
import type { TestDb } from '@llmops/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditHash, GENESIS_HASH } from '../audit-chain.ts';
import type { AppendAuditInput } from './audit.ts';

let db: TestDb;
beforeEach(async () => {
  db = await createTestDb();
});
afterEach(async () => {
  await db.cleanup();
});

const entry = (overrides: Partial<AppendAuditInput> = {}): AppendAuditInput => ({
  actor: 'user:alice',
  action: 'training.submit',
  targetType: 'training_job',
  result: 'success',
  statusCode: 201,
  ...overrides,
});

describe(`audit chain (${testDbKind()})`, () => {
  it('links each entry to the previous hash, starting from the genesis hash', async () => {
    const first = await db.repos.audit.append(entry({ detail: { b: 2, a: 1 } }));
    const second = await db.repos.audit.append(entry({ action: 'training.cancel', statusCode: 202 }));
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(second.prevHash).toBe(first.hash);
    const { seq: _s, prevHash: _p, hash: _h, ...fields } = first;
    expect(auditHash(GENESIS_HASH, fields)).toBe(first.hash);
    expect(await db.repos.audit.verify()).toEqual({
      ok: true,
      checked: 2,
      firstBrokenSeq: null,
      reason: null,
    });
  });

  it('appends a batch in order in one transaction, linked to the rows before and after it', async () => {
    const before = await db.repos.audit.append(entry());
    const batch = await db.repos.audit.appendMany([
      entry({ action: 'a1' }),
      entry({ action: 'a2' }),
      entry({ action: 'a3' }),
    ]);
    const after = await db.repos.audit.append(entry({ action: 'a4' }));
    expect(batch.map((r) => r.action)).toEqual(['a1', 'a2', 'a3']);
    expect(batch[0]!.prevHash).toBe(before.hash);
    expect(batch[2]!.prevHash).toBe(batch[1]!.hash);
    expect(after.prevHash).toBe(batch[2]!.hash);
    expect(await db.repos.audit.appendMany([])).toEqual([]);
    expect((await db.repos.audit.verify()).ok).toBe(true);
  });

  it('refuses a whole batch when one entry is invalid', async () => {
    await expect(db.repos.audit.appendMany([entry(), entry({ statusCode: 1.5 })])).rejects.toThrow(
      /statusCode must be an integer/,
    );
    expect((await db.repos.audit.list({ limit: 10, offset: 0 })).total).toBe(0);
  });

  it('keeps one unbroken chain under concurrent appends', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => db.repos.audit.append(entry({ targetId: `job-${i}` }))),
    );
    expect(await db.repos.audit.verify()).toMatchObject({ ok: true, checked: 20 });
  });

  it('is refused UPDATE, DELETE and TRUNCATE by the database itself', async () => {
    await db.repos.audit.append(entry());
    await expect(db.sql.query("UPDATE audit_log SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(db.sql.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(db.sql.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect((await db.repos.audit.list({ limit: 10, offset: 0 })).total).toBe(1);
  });

  it('detects a forged row inserted with a wrong hash, naming its seq', async () => {
    await db.repos.audit.append(entry());
    const last = await db.repos.audit.append(entry({ action: 'catalog.model.create' }));
    const [forged] = await db.sql.query<{ seq: string | number }>(
      `INSERT INTO audit_log (id, at, actor, project_id, action, target_type, result, status_code, detail, prev_hash, hash)
       VALUES (gen_random_uuid(), now(), 'mallory', NULL, 'admin.grant', 'user', 'success', 200, '{}', $1, $2)
       RETURNING seq`,
      [last.hash, 'f'.repeat(64)],
    );
    await db.repos.audit.append(entry({ action: 'after' }));
    const result = await db.repos.audit.verify();
    expect(result).toMatchObject({ ok: false, checked: 2, firstBrokenSeq: Number(forged!.seq) });
    expect(result.reason).toMatch(/does not match its content/);
  });

  it('detects a row edited behind the triggers', async () => {
    const first = await db.repos.audit.append(entry());
    await db.repos.audit.append(entry());
    // Someone with owner rights disables the guard; the chain still shows the edit.
    await db.sql.exec(`
      ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
      UPDATE audit_log SET status_code = 500 WHERE seq = ${first.seq};
      ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;`);
    expect(await db.repos.audit.verify()).toMatchObject({ ok: false, checked: 0, firstBrokenSeq: first.seq });
  });

  it('detects a correctly hashed row that does not link to its predecessor', async () => {
    await db.repos.audit.append(entry());
    const fields = {
      id: '0b5f8c44-8f4e-4f7e-9a0e-4d4b8a3f2e10',
      at: new Date().toISOString(),
      actor: 'mallory',
      projectId: null,
      action: 'admin.grant',
      targetType: 'user',
      targetId: null,
      requestHash: null,
      result: 'success' as const,
      statusCode: 200,
      detail: {},
    };
    const [spliced] = await db.sql.query<{ seq: string | number }>(
      `INSERT INTO audit_log (id, at, actor, action, target_type, result, status_code, detail, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8, $9) RETURNING seq`,
      [
        fields.id,
        fields.at,
        fields.actor,
        fields.action,
        fields.targetType,
        fields.result,
        fields.statusCode,
        GENESIS_HASH,
        auditHash(GENESIS_HASH, fields),
      ],
    );
    const result = await db.repos.audit.verify();
    expect(result).toMatchObject({ ok: false, checked: 1, firstBrokenSeq: Number(spliced!.seq) });
    expect(result.reason).toMatch(/prev_hash of seq \d+ does not match the hash of the row before it/);
  });

  it('lists newest first with filters on project, action, actor and time', async () => {
    const projectId = '8a0c7c1e-3b1f-4a8e-9a53-2f0f6f1b9c11';
    const a = await db.repos.audit.append(entry({ projectId, actor: 'user:bob' }));
    const b = await db.repos.audit.append(entry({ projectId, action: 'training.cancel', result: 'error' }));
    await db.repos.audit.append(entry({ action: 'org.create' }));
    const page = (filter: object) => db.repos.audit.list({ limit: 10, offset: 0, ...filter });
    expect((await page({ projectId })).items.map((r) => r.seq)).toEqual([b.seq, a.seq]);
    expect((await page({ action: 'training.cancel' })).items).toEqual([b]);
    expect((await page({ actor: 'user:bob' })).items.map((r) => r.id)).toEqual([a.id]);
    expect((await page({ since: b.at })).total).toBeGreaterThanOrEqual(2);
    expect((await page({ until: a.at })).total).toBe(0);
    expect(await page({ projectId: 'not-a-uuid' })).toEqual({ items: [], total: 0 });
    expect(await page({ limit: 1, offset: 2 })).toMatchObject({ total: 3, items: [{ seq: a.seq }] });
  });

  it('commits with the caller transaction or not at all', async () => {
    await expect(
      db.sql.transaction(async (tx) => {
        await db.repos.audit.append(entry(), tx);
        throw new Error('request failed');
      }),
    ).rejects.toThrow('request failed');
    expect((await db.repos.audit.list({ limit: 10, offset: 0 })).total).toBe(0);
    expect(await db.repos.audit.verify()).toMatchObject({ ok: true, checked: 0 });
  });

  it('rejects an invalid result with a precise error', async () => {
    await expect(db.repos.audit.append(entry({ result: 'ok' as 'success' }))).rejects.toThrow(
      'result must be "success" or "error", got "ok"',
    );
  });
});
