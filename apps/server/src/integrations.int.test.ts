import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, createTestPlatform, type TestPlatform } from './testing/test-platform.ts';

// GET /integrations: reachability of the components the process is configured with, and its flags.
let listener: Server;
let t: TestPlatform;
let bare: TestPlatform;

beforeAll(async () => {
  listener = createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as { port: number }).port;
  t = await createTestPlatform({
    integrations: {
      targets: {
        temporal: { kind: 'address', address: `127.0.0.1:${port}` },
        kubernetes: { kind: 'disabled', reason: 'no KUBERNETES_API_URL or KUBECONFIG configured' },
        huggingface_hub: { kind: 'not_checked', reason: 'the public Hub (no HF_ENDPOINT set) is not probed' },
        dvc: { kind: 'address', address: 'http://127.0.0.1:1' },
      },
      features: [{ key: 'experiment_tracking', enabled: true, system: 'mlflow' }],
    },
  });
  bare = await createTestPlatform();
});
afterAll(async () => {
  await t?.close();
  await bare?.close();
  await new Promise((r) => listener.close(r));
});

describe('GET /integrations', () => {
  it('checks each configured address and reports the feature flags', async () => {
    const res = await t.as(t.adminToken).get(`${API}/integrations`);
    expect(res.status).toBe(200);
    const { components, features } = res.body.data;
    expect(components.temporal).toMatchObject({ status: 'ok', error: null });
    expect(components.temporal.latencyMs).toBeGreaterThanOrEqual(0);
    expect(components.kubernetes).toMatchObject({ status: 'disabled', target: null });
    expect(components.huggingface_hub.status).toBe('not_checked');
    expect(components.dvc).toMatchObject({ status: 'down', target: '127.0.0.1:1', latencyMs: null });
    expect(features).toEqual([{ key: 'experiment_tracking', enabled: true, system: 'mlflow' }]);
  });

  it('says so when the process was started without integration settings', async () => {
    const res = await bare.as(bare.adminToken).get(`${API}/integrations`);
    expect(res.status).toBe(200);
    expect(res.body.data.components.temporal.status).toBe('not_checked');
    expect(res.body.data.features).toEqual([]);
  });

  it('refuses a caller without a token', async () => {
    const res = await t.as('').get(`${API}/integrations`);
    expect(res.status).toBe(401);
  });
});
