import { CRD_FILES, INFERENCE_SERVICES, validateAgainstCrd } from '@llmops/integrations-kubernetes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.ts';

// The fake's HTTP semantics, seen the way the client library sees them (plain fetch).

const BASE = '/apis/serving.kserve.io/v1beta1/namespaces/kserve/inferenceservices';

const isvc = (name: string) => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name, namespace: 'kserve' },
  spec: { predictor: { model: { modelFormat: { name: 'huggingface' }, storageUri: 's3://m/1' } } },
});

let api: FakeKubeApi;
const call = (path: string, init: RequestInit = {}, token: string | null = api.token) =>
  fetch(`${api.url}${path}`, {
    ...init,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(init.headers as Record<string, string>),
    },
  });
const json = async (r: Response) => (await r.json()) as any;

beforeAll(async () => {
  validateAgainstCrd({}, CRD_FILES.inferenceService);
  api = await startFakeKubeApi();
}, 120_000);
afterAll(async () => api?.close());

describe('fake Kubernetes API server', () => {
  it('refuses a request without the token (401 Status)', async () => {
    const r = await call(`${BASE}/x`, {}, null);
    expect(r.status).toBe(401);
    expect(await json(r)).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Unauthorized',
      code: 401,
    });
  });

  it('answers 404 NotFound with a Status naming the object, and 404 for unknown resources', async () => {
    const r = await call(`${BASE}/missing`);
    expect(r.status).toBe(404);
    expect(await json(r)).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      code: 404,
      message: 'inferenceservices.serving.kserve.io "missing" not found',
      details: { name: 'missing', group: 'serving.kserve.io', kind: 'inferenceservices' },
    });
    expect((await call('/apis/apps/v1/namespaces/kserve/deployments')).status).toBe(404);
  });

  it('a create drops status; a PUT needs the resourceVersion and keeps status; /status changes only status', async () => {
    const created = await json(
      await call(BASE, {
        method: 'POST',
        body: JSON.stringify({ ...isvc('sub'), status: { url: 'http://x' } }),
      }),
    );
    expect(created.status).toBeUndefined();
    expect(created.metadata).toMatchObject({
      resourceVersion: expect.stringMatching(/^\d+$/),
      generation: 1,
    });

    const noRv = await call(`${BASE}/sub`, { method: 'PUT', body: JSON.stringify(isvc('sub')) });
    expect(noRv.status).toBe(422);

    const statusPut = await call(`${BASE}/sub/status`, {
      method: 'PUT',
      body: JSON.stringify({ ...created, status: { url: 'http://sub.example.com' } }),
    });
    const withStatus = await json(statusPut);
    expect(withStatus.status).toEqual({ url: 'http://sub.example.com' });
    expect(withStatus.metadata.generation).toBe(1); // status is not spec

    const put = await call(`${BASE}/sub`, {
      method: 'PUT',
      body: JSON.stringify({
        ...withStatus,
        status: { url: 'http://ignored' },
        spec: { predictor: { ...withStatus.spec.predictor, minReplicas: 2 } },
      }),
    });
    const replaced = await json(put);
    expect(replaced.status).toEqual({ url: 'http://sub.example.com' });
    expect(replaced.metadata.generation).toBe(2);
  });

  it('refuses strategic merge patches on a custom resource (415), like the real API server', async () => {
    await call(BASE, { method: 'POST', body: JSON.stringify(isvc('smp')) });
    const r = await call(`${BASE}/smp`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({ spec: {} }),
    });
    expect(r.status).toBe(415);
  });

  it('a watch from a resourceVersion replays what came after it, then streams; too old is a 410 ERROR event', async () => {
    const first = await json(await call(BASE, { method: 'POST', body: JSON.stringify(isvc('watch-a')) }));
    await call(BASE, { method: 'POST', body: JSON.stringify(isvc('watch-b')) });
    const r = await call(
      `${BASE}?watch=true&resourceVersion=${first.metadata.resourceVersion}&timeoutSeconds=1`,
    );
    await call(`${BASE}/watch-a`, { method: 'DELETE' });
    const lines = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      'ADDED watch-b',
      'DELETED watch-a',
    ]);

    api.compact();
    const old = await call(`${BASE}?watch=true&resourceVersion=${first.metadata.resourceVersion}`);
    expect(old.status).toBe(200);
    const [event] = (await old.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(event).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });

  it('failNext answers the next requests 503 with a Status, then serves again', async () => {
    api.failNext(2);
    expect((await call(`${BASE}/x`)).status).toBe(503);
    const second = await call(`${BASE}/x`);
    expect(await json(second)).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    expect((await call(`${BASE}/x`)).status).toBe(404);
  });

  it('setStatus plays the controller and is checked against the CRD too', async () => {
    await call(BASE, { method: 'POST', body: JSON.stringify(isvc('ctl')) });
    const o = api.setStatus(INFERENCE_SERVICES, 'kserve', 'ctl', { url: 'http://ctl.example.com' });
    expect(o.status).toEqual({ url: 'http://ctl.example.com' });
    expect(() =>
      api.setStatus(INFERENCE_SERVICES, 'kserve', 'ctl', { components: { predictor: { copies: 1 } } }),
    ).toThrow('status.components.predictor.copies: field is not defined by the CRD schema');
  });
});
