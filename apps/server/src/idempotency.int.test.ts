import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  quickstartJobBody,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from './testing/test-platform.ts';

describe(`idempotent submission (${testDbKind()})`, () => {
  let p: TestPlatform;
  let admin: Client;
  let ids: Awaited<ReturnType<typeof seedQuickstart>>;

  beforeAll(async () => {
    p = await createTestPlatform();
    admin = p.as(p.adminToken);
    ids = await seedQuickstart(admin);
  });
  afterAll(() => p.close());

  it('50 concurrent submissions with one key create exactly one job', async () => {
    const body = quickstartJobBody(ids.modelId, ids.datasetId);
    const replies = await Promise.all(
      Array.from({ length: 50 }, () =>
        admin.post(`${API}/training/jobs`, body, { 'idempotency-key': 'retry-storm-1' }),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(49);
    expect(new Set(replies.map((r) => r.body.data.id)).size).toBe(1);
    const list = await admin.get(`${API}/training/jobs`);
    expect(list.body.data.total).toBe(1);
  });

  it('the same key with another body → 409 saying so, and no new job', async () => {
    const body = quickstartJobBody(ids.modelId, ids.datasetId) as any;
    body.trainJobSpec.hyperparams.lr = 0.0002;
    const res = await admin.post(`${API}/training/jobs`, body, { 'idempotency-key': 'retry-storm-1' });
    expect(res.status).toBe(409);
    expect(res.body.data.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(res.body.message).toMatch(/already used .* different request body/);
    expect((await admin.get(`${API}/training/jobs`)).body.data.total).toBe(1);
  });

  it('the key in the body works like the header, and a header that contradicts it is refused', async () => {
    const body = { ...quickstartJobBody(ids.modelId, ids.datasetId), idempotencyKey: 'body-key' };
    const first = await admin.post(`${API}/training/jobs`, body);
    const again = await admin.post(`${API}/training/jobs`, body, { 'idempotency-key': 'body-key' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(first.body.data.id);
    const clash = await admin.post(`${API}/training/jobs`, body, { 'idempotency-key': 'other-key' });
    expect(clash.status).toBe(400);
  });

  it('keys are scoped per project', async () => {
    const created = await admin.post(`${API}/projects`, { slug: 'team-b', name: 'Team B' });
    expect(created.status).toBe(201);
    const b = p.as(p.adminToken, 'team-b');
    const seeded = await seedQuickstart(b);
    const res = await b.post(`${API}/training/jobs`, quickstartJobBody(seeded.modelId, seeded.datasetId), {
      'idempotency-key': 'retry-storm-1',
    });
    expect(res.status).toBe(201);
  });

  it('without a key, two submissions are two jobs', async () => {
    const body = quickstartJobBody(ids.modelId, ids.datasetId);
    const a = await admin.post(`${API}/training/jobs`, body);
    const b = await admin.post(`${API}/training/jobs`, body);
    expect(a.body.data.id).not.toBe(b.body.data.id);
  });
});
