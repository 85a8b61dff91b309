import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, createTestPlatform, type TestPlatform } from './testing/test-platform.ts';

let t: TestPlatform;

beforeAll(async () => {
  t = await createTestPlatform({
    config: (c) => ({ ...c, policies: { ...c.policies, max_gpus_per_job: 7, default_priority: 42 } }),
  });
});
afterAll(async () => {
  await t?.close();
});

describe('GET /governance/policies', () => {
  it('shows the configured policy limits to a member', async () => {
    const res = await t.as(t.adminToken).get(`${API}/governance/policies`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      environment: t.platform.config.environment,
      policies: {
        max_gpus_per_job: 7,
        max_nodes_per_job: t.platform.config.policies.max_nodes_per_job,
        default_priority: 42,
        idempotency_ttl_hours: t.platform.config.policies.idempotency_ttl_hours,
        fit_check: t.platform.config.policies.fit_check,
        request_body_limit_bytes: t.platform.config.policies.request_body_limit_bytes,
        upload_limit_bytes: t.platform.config.policies.upload_limit_bytes,
      },
    });
  });

  it('refuses a caller without a token', async () => {
    const res = await t.as('').get(`${API}/governance/policies`);
    expect(res.status).toBe(401);
    expect(res.body.data.code).toBe('UNAUTHORIZED');
  });
});
