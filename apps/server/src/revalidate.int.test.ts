import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDbKind } from '@llmops/testing';
import { assertCompliant, createServices } from '@llmops/core';
import {
  API,
  createTestPlatform,
  quickstartEndpointBody,
  quickstartJobBody,
  seedQuickstart,
  type TestPlatform,
} from './testing/test-platform.ts';

describe(`re-validation of stored items, FR-031 (${testDbKind()})`, () => {
  let p: TestPlatform;
  let jobId: string;
  let endpointId: string;

  beforeAll(async () => {
    p = await createTestPlatform();
    const admin = p.as(p.adminToken);
    const ids = await seedQuickstart(admin);
    jobId = (await admin.post(`${API}/training/jobs`, quickstartJobBody(ids.modelId, ids.datasetId))).body
      .data.id;
    endpointId = (await admin.post(`${API}/serving/endpoints`, quickstartEndpointBody(ids.sftModelId))).body
      .data.id;
  });
  afterAll(() => p.close());

  it('finds everything compliant under the rules they were accepted with', async () => {
    const res = await p.as(p.adminToken).post(`${API}/training/jobs/revalidate`);
    expect(res.body.data).toMatchObject({ checked: 1, nonCompliant: 0 });
  });

  it('marks items non-compliant when the rules change, says how to fix them, and refuses to run them', async () => {
    // The administrator drops A100 from dev and lowers the per-job GPU limit.
    const config = structuredClone(p.platform.config) as any;
    config.gpu_types.dev = config.gpu_types.dev.filter((g: any) => g.name !== 'A100');
    const services = createServices({
      db: p.db,
      platform: { ...p.platform, config },
      store: undefined as never,
    });
    const actor = await services.identity.authenticate(p.adminToken, undefined);
    const jobs = await services.compliance.revalidateJobs(actor, {});
    expect(jobs.nonCompliant).toBe(1);
    const item = jobs.items[0]!;
    expect(item.violations[0]).toMatchObject({
      code: 'GPU_TYPE_NOT_AVAILABLE',
      path: 'trainJobSpec.resources.gpu_type',
    });
    expect(item.fix[0]).toMatch(/GET \/llm-ops\/v1\/training\/gpu-types/);

    const got = await p.as(p.adminToken).get(`${API}/training/jobs/${jobId}`);
    expect(got.body.data.compliance).toMatchObject({ compliant: false, checkedAt: expect.any(String) });
    const job = await p.db.repos.jobs.getById(actor.project!.id, jobId);
    expect(() => assertCompliant(job!, 'Training job')).toThrow(
      /is non-compliant with the current rules; fix it first: .*gpu-types/,
    );

    // Back under the original rules the job is compliant again.
    const again = await p.as(p.adminToken).post(`${API}/training/jobs/revalidate?jobId=${jobId}`);
    expect(again.body.data).toMatchObject({ checked: 1, nonCompliant: 0 });
  });

  it('re-validates endpoints, one by id, and answers 404 for an unknown id', async () => {
    const admin = p.as(p.adminToken);
    const one = await admin.post(`${API}/serving/endpoints/revalidate?endpointId=${endpointId}`);
    expect(one.body.data).toMatchObject({
      checked: 1,
      nonCompliant: 0,
      items: [{ id: endpointId, compliant: true }],
    });
    const missing = await admin.post(
      `${API}/serving/endpoints/revalidate?endpointId=00000000-0000-0000-0000-000000000000`,
    );
    expect(missing.status).toBe(404);
  });
});
