import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CRD_FILES,
  formatCrdErrors,
  fromInferenceService,
  fromRayService,
  validateAgainstCrd,
} from '@llmops/integrations-kubernetes';
import { testDbKind } from '@llmops/testing';
import {
  API,
  createTestPlatform,
  quickstartEndpointBody,
  seedQuickstart,
  type Client,
  type TestPlatform,
} from '../../testing/test-platform.ts';

const STORAGE_URI = 's3://models/llama-3-8b-sft-v1/1';

/** A platform whose serving backend comes from the given environment variables. */
async function platformWith(env: Record<string, string>) {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  try {
    const p = await createTestPlatform();
    const admin = p.as(p.adminToken);
    const ids = await seedQuickstart(admin);
    // seedQuickstart registers the SFT model without files; this version has them.
    const sft = await admin.post(`${API}/catalog/models`, {
      name: 'llama-3-8b-sft-v1',
      version: '2',
      model_family: 'llama',
      max_position_embeddings: 8192,
      parameter_count: 8_000_000_000,
      storage_uri: STORAGE_URI,
    });
    if (sft.status !== 201) throw new Error(JSON.stringify(sft.body));
    return { p, admin, ids, sftWithFiles: sft.body.data.id as string };
  } finally {
    vi.unstubAllEnvs();
  }
}

describe(`deployment manifests through HTTP (${testDbKind()})`, () => {
  describe('KServe backend', () => {
    let p: TestPlatform;
    let admin: Client;
    let modelId: string;

    beforeAll(async () => {
      ({
        p,
        admin,
        sftWithFiles: modelId,
      } = await platformWith({
        SERVING_FRAMEWORK_DEFAULT: 'kserve',
        USE_KSERVE: 'true',
        KSERVE_NAMESPACE: 'llm-serving',
      }));
      validateAgainstCrd({}, CRD_FILES.inferenceService); // compile the 1 MB schema once
    }, 120_000);
    afterAll(() => p?.close());

    it('shows the InferenceService beside the spec, and it passes the official CRD schema', async () => {
      const body = { ...quickstartEndpointBody(modelId), name: 'Chat (prod)' };
      const res = await admin.post(`${API}/serving/endpoints`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const ep = res.body.data;
      const dep = await admin.get(`${API}/serving/endpoints/${ep.id}/deployment`);
      expect(dep.status).toBe(200);
      const d = dep.body.data;
      // The fields that were there before manifests stay as they were.
      expect(d).toMatchObject({
        endpointId: ep.id,
        deploymentSpec: body.deploymentSpec,
        image: ep.image,
        imageVariant: ep.imageVariant,
        backend: 'kserve',
        kind: 'InferenceService',
        manifestError: null,
      });
      expect(d.converted).toEqual({ InferenceService: d.manifest });
      const v = validateAgainstCrd(d.manifest, CRD_FILES.inferenceService);
      expect(v.valid, formatCrdErrors(v)).toBe(true);
      expect(d.manifest.metadata).toMatchObject({
        name: 'chat-prod',
        namespace: 'llm-serving',
        labels: { 'llmops/endpoint-id': ep.id, 'llmops/project': 'default', 'llmops/model-version': '2' },
      });
      const predictor = d.manifest.spec.predictor;
      expect(predictor.model.storageUri).toBe(STORAGE_URI);
      // use_gpu: the cluster gets the configured GPU variant, whatever this machine has.
      expect(predictor.model.image).toBe(p.platform.config.images.serve.GENERATION.gpu);
      expect(predictor.model.resources.limits['nvidia.com/gpu']).toBe('2');
      expect(predictor.canaryTrafficPercent).toBe(10);
      expect(fromInferenceService(d.manifest).spec).toEqual(body.deploymentSpec);
    });

    it('returns the manifest from a dry run and stores nothing', async () => {
      const before = (await admin.get(`${API}/serving/endpoints`)).body.data.total;
      const body = { ...quickstartEndpointBody(modelId), route: '/dry', name: 'preview' };
      const res = await admin.post(`${API}/serving/endpoints/validate`, body);
      expect(res.status).toBe(200);
      expect(res.body.data.valid).toBe(true);
      expect(res.body.data.deployment).toMatchObject({
        backend: 'kserve',
        kind: 'InferenceService',
        error: null,
      });
      expect(res.body.data.deployment.manifest.metadata.name).toBe('preview');
      expect(res.body.data.deployment.manifest.metadata.annotations['llmops/endpoint-id']).toBe('dry-run');
      const v = validateAgainstCrd(res.body.data.deployment.manifest, CRD_FILES.inferenceService);
      expect(v.valid, formatCrdErrors(v)).toBe(true);
      expect((await admin.get(`${API}/serving/endpoints`)).body.data.total).toBe(before);
      // A body that breaks a rule gets the violations and no manifest.
      const unknown = {
        ...body,
        deploymentSpec: { ...body.deploymentSpec, model_ref: 'not-in-catalog' },
        modelId: undefined,
      };
      const bad = await admin.post(`${API}/serving/endpoints/validate`, unknown);
      expect(bad.body.data.valid).toBe(false);
      expect(bad.body.data.violations.map((v: { code: string }) => v.code)).toContain('MODEL_REF_NOT_FOUND');
      expect(bad.body.data.deployment).toBeNull();
    });

    it('refuses a model version without files, naming storageUri, and stores nothing', async () => {
      const before = (await admin.get(`${API}/serving/endpoints`)).body.data.total;
      // The newest version of the pretrain model has no storage URI.
      const body = {
        ...quickstartEndpointBody(modelId),
        modelId: undefined,
        route: '/no-files',
        deploymentSpec: {
          ...quickstartEndpointBody(modelId).deploymentSpec,
          model_ref: 'llama-3-8b-pretrain-v1',
          job_type: 'PRETRAIN',
        },
      };
      const dry = await admin.post(`${API}/serving/endpoints/validate`, body);
      expect(dry.body.data.valid).toBe(false);
      expect(dry.body.data.violations).toEqual([]);
      expect(dry.body.data.deployment.error).toMatchObject({
        code: 'STORAGE_URI_MISSING',
        field: 'storageUri',
      });
      expect(dry.body.message).toMatch(/no storage URI/);
      const res = await admin.post(`${API}/serving/endpoints`, body);
      expect(res.status).toBe(422);
      expect(res.body.message).toMatch(
        /storageUri: model 'llama-3-8b-pretrain-v1' version 1 has no storage URI/,
      );
      expect(res.body.data.details).toMatchObject({ backend: 'kserve', field: 'storageUri' });
      expect((await admin.get(`${API}/serving/endpoints`)).body.data.total).toBe(before);
    });
  });

  describe('Ray backend', () => {
    let p: TestPlatform;
    let admin: Client;
    let modelId: string;

    beforeAll(async () => {
      ({ p, admin, sftWithFiles: modelId } = await platformWith({ SERVING_FRAMEWORK_DEFAULT: 'ray' }));
      validateAgainstCrd({}, CRD_FILES.rayService);
    }, 120_000);
    afterAll(() => p?.close());

    it('shows a RayService that passes the official CRD schema', async () => {
      const body = quickstartEndpointBody(modelId);
      const ep = (await admin.post(`${API}/serving/endpoints`, body)).body.data;
      const d = (await admin.get(`${API}/serving/endpoints/${ep.id}/deployment`)).body.data;
      expect(d).toMatchObject({ backend: 'ray', kind: 'RayService', manifestError: null });
      const v = validateAgainstCrd(d.manifest, CRD_FILES.rayService);
      expect(v.valid, formatCrdErrors(v)).toBe(true);
      expect(fromRayService(d.manifest).spec).toEqual(body.deploymentSpec);
      expect(fromRayService(d.manifest).context).toMatchObject({
        endpointId: ep.id,
        storageUri: STORAGE_URI,
      });
    });
  });

  describe('local backend (the default)', () => {
    let p: TestPlatform;
    let admin: Client;
    let modelId: string;

    beforeAll(async () => {
      ({ p, admin, sftWithFiles: modelId } = await platformWith({ SERVING_FRAMEWORK_DEFAULT: 'local' }));
    });
    afterAll(() => p?.close());

    it('has no manifest', async () => {
      const ep = (await admin.post(`${API}/serving/endpoints`, quickstartEndpointBody(modelId))).body.data;
      const d = (await admin.get(`${API}/serving/endpoints/${ep.id}/deployment`)).body.data;
      expect(d).toMatchObject({
        backend: 'local',
        kind: null,
        manifest: null,
        manifestError: null,
        converted: {},
      });
    });
  });
});
