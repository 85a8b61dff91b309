import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  quickstartEndpointBody,
  quickstartJobBody,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from './testing/test-platform.ts';

describe(`quickstart §5 through HTTP (${testDbKind()})`, () => {
  let p: TestPlatform;
  let admin: Client;
  let ids: Awaited<ReturnType<typeof seedQuickstart>>;

  beforeAll(async () => {
    p = await createTestPlatform();
    admin = p.as(p.adminToken);
    ids = await seedQuickstart(admin);
  });
  afterAll(() => p.close());

  it('accepts the §5.1 body as written and stores the job with its image and estimates', async () => {
    const res = await admin.post(`${API}/training/jobs`, quickstartJobBody(ids.modelId, ids.datasetId));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.status).toBe('success');
    const job = res.body.data;
    expect(job.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.status).toBe('QUEUED');
    expect(job.jobType).toBe('finetune');
    expect(job.trainJobType).toBe('SFT');
    // No GPU on this machine and preference auto → the CPU variant, with the reason recorded.
    expect(job.image).toBe(p.platform.config.images.train.SFT.cpu);
    expect(job.imageVariant).toBe('cpu');
    expect(job.imageReason).toMatch(/GPU/i);
    expect(job.estimates.gpuMemoryPerGpuGib).toBeGreaterThan(0);
    expect(job.estimates.gpuMemoryPerGpuGib).toBeLessThan(80);
    expect(job.estimates.gpuHours).toBeGreaterThan(0);
    expect(job.estimates.costUsd).toBeGreaterThan(0);

    const model = await admin.get(`${API}/catalog/models/${ids.modelId}`);
    expect(model.body.data).toMatchObject({ name: 'llama-3-8b-pretrain-v1', lineage: null });
    const got = await admin.get(`${API}/training/jobs/${job.id}`);
    expect(got.status).toBe(200);
    expect(got.body.data.submission.trainJobSpec.hyperparams.max_seq_len).toBe(4096);
    const list = await admin.get(`${API}/training/jobs?status=QUEUED&limit=10`);
    expect(list.body.data.items.map((j: { id: string }) => j.id)).toContain(job.id);
    const events = await admin.get(`${API}/training/jobs/${job.id}/events`);
    expect(events.body.data[0]).toMatchObject({ type: 'submitted', toStatus: 'QUEUED' });
  });

  it('accepts the §5.2 body as written and returns the stored deployment', async () => {
    const res = await admin.post(`${API}/serving/endpoints`, quickstartEndpointBody(ids.sftModelId));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const ep = res.body.data;
    expect(ep.route).toBe('/test-model');
    expect(ep.image).toBe(p.platform.config.images.serve.GENERATION.cpu);
    const dep = await admin.get(`${API}/serving/endpoints/${ep.id}/deployment`);
    expect(dep.status).toBe(200);
    expect(dep.body.data.deploymentSpec).toEqual(quickstartEndpointBody(ids.sftModelId).deploymentSpec);
    const dup = await admin.post(`${API}/serving/endpoints`, quickstartEndpointBody(ids.sftModelId));
    expect(dup.status).toBe(409);
    expect(dup.body.message).toMatch(/Route '\/test-model' is already used/);
  });

  it('lists GPU types per environment from configuration', async () => {
    const dev = await admin.get(`${API}/training/gpu-types?env=dev`);
    expect(dev.body.data.map((g: { name: string }) => g.name)).toEqual(
      p.platform.config.gpu_types.dev.map((g) => g.name),
    );
    const prod = await admin.get(`${API}/training/gpu-types?env=prod`);
    expect(prod.body.data.map((g: { name: string }) => g.name)).toContain('H100');
    expect((await admin.get(`${API}/training/gpu-types?env=qa`)).status).toBe(400);
  });

  describe('each error of quickstart §6.5 comes from a matching bad request', () => {
    const job = () => quickstartJobBody(ids.modelId, ids.datasetId);
    it.each([
      [
        'model family',
        (b: any) => ((b.trainJobSpec.model_family = 'xxx'), b),
        'MODEL_FAMILY_NOT_SUPPORTED',
        /Model family 'xxx' is not supported/,
      ],
      [
        'dataset type',
        (b: any) => ((b.trainJobSpec.dataset_ref.type = 'rag_qa'), b),
        'DATASET_TYPE_INCOMPATIBLE',
        /Dataset type 'rag_qa' is not compatible with job_type 'SFT'/,
      ],
      [
        'sequence length',
        (b: any) => ((b.trainJobSpec.hyperparams.max_seq_len = 16384), b),
        'MAX_SEQ_LEN_EXCEEDS_MODEL',
        /SFT max_seq_len must be <= base_model.max_position_embeddings/,
      ],
    ])('%s', async (_name, mutate, code, message) => {
      const res = await admin.post(`${API}/training/jobs`, mutate(job()));
      expect(res.status).toBe(422);
      expect(res.body.status).toBe('error');
      expect(res.body.data.code).toBe('VALIDATION_FAILED');
      const v = res.body.data.violations.find((x: { code: string }) => x.code === code);
      expect(v.message).toMatch(message);
      expect(res.body.message).toMatch(message);
    });

    it('serve target', async () => {
      const body: any = quickstartEndpointBody(ids.sftModelId);
      body.route = '/other';
      body.deploymentSpec.serve_target = 'RAG';
      const res = await admin.post(`${API}/serving/endpoints`, body);
      expect(res.status).toBe(422);
      expect(res.body.data.violations).toContainEqual(
        expect.objectContaining({
          code: 'SERVE_TARGET_INCOMPATIBLE',
          path: 'deploymentSpec.serve_target',
          message: expect.stringMatching(/Serve target 'RAG' is not compatible with job_type 'SFT'/),
        }),
      );
    });
  });

  it('validate endpoints run the same gate without storing anything', async () => {
    const before = (await admin.get(`${API}/training/jobs`)).body.data.total;
    const good = await admin.post(
      `${API}/training/jobs/validate`,
      quickstartJobBody(ids.modelId, ids.datasetId),
    );
    expect(good.body.data).toMatchObject({ valid: true, violations: [], image: { variant: 'cpu' } });
    const bad: any = quickstartJobBody(ids.modelId, ids.datasetId);
    bad.trainJobSpec.resources.gpu_type = 'B200';
    const r = await admin.post(`${API}/training/jobs/validate`, bad);
    expect(r.status).toBe(200);
    expect(r.body.data.valid).toBe(false);
    expect(r.body.data.violations[0]).toMatchObject({
      code: 'GPU_TYPE_NOT_AVAILABLE',
      path: 'trainJobSpec.resources.gpu_type',
    });
    expect((await admin.get(`${API}/training/jobs`)).body.data.total).toBe(before);
    const ep = await admin.post(`${API}/serving/endpoints/validate`, {
      ...quickstartEndpointBody(ids.sftModelId),
      route: '/v',
    });
    expect(ep.body.data.valid).toBe(true);
  });
});
