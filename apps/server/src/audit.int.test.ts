import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHash, canonicalJson } from '@llmops/db';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from './testing/test-platform.ts';

describe(`audit chain through the API (${testDbKind()})`, () => {
  let p: TestPlatform;
  let admin: Client;

  beforeAll(async () => {
    p = await createTestPlatform();
    admin = p.as(p.adminToken);
  });
  afterAll(() => p.close());

  it('appends one row per mutating request, successes and failures, and none for reads or dry runs', async () => {
    const before = (await admin.get(`${API}/audit?limit=200`)).body.data.total;
    await seedQuickstart(admin); // 3 successful writes
    await admin.post(`${API}/catalog/models`, {
      name: 'bad',
      model_family: 'xxx',
      max_position_embeddings: 1,
      parameter_count: 1,
    }); // 1 failed write
    await admin.get(`${API}/catalog/models`);
    await admin.post(`${API}/training/jobs/validate`, { jobType: 'eval' });
    const after = await admin.get(`${API}/audit?limit=200`);
    expect(after.body.data.total - before).toBe(4);
    const newest = after.body.data.items
      .slice(0, 4)
      .map((r: any) => `${r.action}:${r.result}:${r.statusCode}`);
    expect(newest).toEqual(
      expect.arrayContaining(['catalog.model.create:error:422', 'catalog.dataset.create:success:201']),
    );
    const created = after.body.data.items.find((r: any) => r.action === 'catalog.dataset.create');
    expect(created.targetId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.actor).toMatch(/^user:/);
  });

  it('verify reports an intact chain', async () => {
    const res = await admin.get(`${API}/audit/verify`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ ok: true, firstBrokenSeq: null });
    expect(res.body.data.checked).toBeGreaterThan(3);
  });

  it('the database refuses to edit or delete audit rows', async () => {
    await expect(p.db.sql.query(`UPDATE audit_log SET actor = 'someone-else'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(p.db.sql.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(p.db.sql.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
  });

  it('a forged row inserted behind the API is detected by verify, with its seq', async () => {
    const [last] = await p.db.sql.query<{ seq: number; hash: string }>(
      `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`,
    );
    // A forger who links to the real previous hash but cannot produce the right hash for the content.
    const fields = {
      id: crypto.randomUUID(),
      at: new Date().toISOString(),
      actor: 'user:forger',
      projectId: null,
      action: 'catalog.model.create',
      targetType: 'model',
      targetId: null,
      requestHash: null,
      result: 'success' as const,
      statusCode: 201,
      detail: {},
    };
    const wrong = auditHash(last!.hash, { ...fields, actor: 'user:admin' });
    await p.db.sql.query(
      `INSERT INTO audit_log (id, at, actor, project_id, action, target_type, target_id, request_hash, result, status_code, detail, prev_hash, hash)
       VALUES ($1, $2, $3, NULL, $4, $5, NULL, NULL, $6, $7, $8, $9, $10)`,
      [
        fields.id,
        fields.at,
        fields.actor,
        fields.action,
        fields.targetType,
        fields.result,
        fields.statusCode,
        canonicalJson(fields.detail),
        last!.hash,
        wrong,
      ],
    );
    const res = await admin.get(`${API}/audit/verify`);
    expect(res.body.data.ok).toBe(false);
    expect(res.body.data.firstBrokenSeq).toBeGreaterThan(Number(last!.seq));
    expect(res.body.message).toMatch(/broken at seq/);
  });
});
