import {
  createKubeClient,
  CRD_FILES,
  formatCrdErrors,
  INFERENCE_SERVICES,
  isKubeError,
  loadKubeConfig,
  RAY_SERVICES,
  validateAgainstCrd,
  type KubeError,
  type KubeObject,
} from '@llmops/integrations-kubernetes';
import type { DeploymentSpec } from '@llmops/spec';
import { startFakeKubeApi, type FakeKubeApi } from '@llmops/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RevisionDeployment, ServingDriver } from '../backend.ts';
import {
  createKubernetesServingDriver,
  REVISION_KEYS,
  type KubernetesServingDriverOptions,
} from './index.ts';

const spec: DeploymentSpec = {
  model_ref: 'chat-sft',
  model_family: 'llama',
  job_type: 'SFT',
  serve_target: 'GENERATION',
  resources: { gpus: 1, gpu_memory_gb: 24 },
  runtime: { max_concurrent_requests: 8, max_input_tokens: 1024, max_output_tokens: 256 },
  rollout: { strategy: 'canary', traffic_split: { old: 90, new: 10 } },
  use_gpu: false,
};

let seq = 0;
function revision(over: Partial<RevisionDeployment> & { endpointId: string }): RevisionDeployment {
  seq++;
  return {
    revisionId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    projectSlug: 'default',
    endpointName: null,
    spec,
    model: { name: 'chat-sft', version: String(seq), storageUri: `s3://models/chat-sft/${seq}` },
    image: 'registry.local/serve-generation:cpu',
    replicas: 1,
    ...over,
  };
}

let api: FakeKubeApi;
const drivers: ServingDriver[] = [];

function driver(over: Partial<KubernetesServingDriverOptions> = {}): ServingDriver {
  const d = createKubernetesServingDriver({
    framework: 'kserve',
    client: createKubeClient({
      kubeConfig: loadKubeConfig(api.connection),
      retryMinDelayMs: 10,
      retryMaxDelayMs: 50,
    }),
    namespace: 'kserve',
    // Readiness must come from watch events: a poll would take a minute.
    pollIntervalMs: 60_000,
    ...over,
  });
  drivers.push(d);
  return d;
}

const predictorOf = (o: KubeObject | null) => o!.spec!.predictor as Record<string, any>;

/** The KServe controller, played by the test: the latest Knative revision becomes ready. */
function kserveReady(name: string, knativeRevision: string, extra: Record<string, unknown> = {}) {
  return api.setStatus(INFERENCE_SERVICES, 'kserve', name, (o) => ({
    observedGeneration: o.metadata.generation,
    url: `http://${name}.kserve.example.com`,
    conditions: [
      { type: 'IngressReady', status: 'True' },
      { type: 'PredictorReady', status: 'True' },
      { type: 'Ready', status: 'True' },
    ],
    components: {
      predictor: {
        latestCreatedRevision: knativeRevision,
        latestReadyRevision: knativeRevision,
        url: `http://${name}-predictor.kserve.example.com`,
        ...extra,
      },
    },
  }));
}

async function kubeError(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (e) {
    if (isKubeError(e)) return e;
    throw e;
  }
  throw new Error('expected a KubeError');
}

beforeAll(async () => {
  // Compile the CRD schemas once (seconds each).
  validateAgainstCrd({}, CRD_FILES.inferenceService);
  validateAgainstCrd({}, CRD_FILES.inferenceServiceV0_20);
  validateAgainstCrd({}, CRD_FILES.rayService);
  api = await startFakeKubeApi();
}, 120_000);

afterEach(async () => {
  // Every object the drivers wrote validates against the official CRDs (the fake checked v0.15.2 on
  // each write; KServe v0.20.0 too).
  for (const o of api.list(INFERENCE_SERVICES)) {
    const v = validateAgainstCrd(o, CRD_FILES.inferenceServiceV0_20);
    expect(v.valid, formatCrdErrors(v)).toBe(true);
  }
  for (const o of api.list(RAY_SERVICES))
    expect(validateAgainstCrd(o, CRD_FILES.rayService).valid).toBe(true);
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});
afterAll(async () => api?.close());

describe('KServe driver', () => {
  it('deploys the first revision as an InferenceService and is ready from the watch event', async () => {
    const kserve = driver();
    const d = revision({ endpointId: 'ep-first', endpointName: 'Chat' });
    const s = await kserve.deploy(d);
    expect(s).toMatchObject({ state: 'deploying', revisionId: d.revisionId });
    const isvc = api.get(INFERENCE_SERVICES, 'kserve', 'chat');
    expect(isvc!.metadata.annotations).toMatchObject({
      [REVISION_KEYS.revision]: d.revisionId,
      'serving.kserve.io/deploymentMode': 'Serverless',
      'serving.kserve.io/enable-tag-routing': 'true',
    });
    expect(predictorOf(isvc)).not.toHaveProperty('canaryTrafficPercent');
    expect(predictorOf(isvc).model.storageUri).toBe(d.model.storageUri);
    expect(kserve.target('ep-first', d.revisionId)).toBeNull();

    const waiting = kserve.waitReady('ep-first', d.revisionId, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    kserveReady('chat', 'chat-predictor-00001');
    const ready = await waiting;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(ready.state).toBe('ready');
    expect(ready.details).toMatchObject({ url: 'http://chat.kserve.example.com' });
    expect(kserve.target('ep-first', d.revisionId)).toBe('http://chat.kserve.example.com');

    // Deploying the same revision again changes nothing.
    const rv = api.get(INFERENCE_SERVICES, 'kserve', 'chat')!.metadata.resourceVersion;
    await kserve.deploy(d);
    expect(api.get(INFERENCE_SERVICES, 'kserve', 'chat')!.metadata.resourceVersion).toBe(rv);
  });

  it('a canary: the new revision starts at 0 %, setTraffic moves canaryTrafficPercent, 100 % clears it', async () => {
    const kserve = driver();
    const a = revision({ endpointId: 'ep-canary', endpointName: 'canary-chat' });
    await kserve.deploy(a);
    kserveReady('canary-chat', 'canary-chat-predictor-00001');
    expect((await kserve.waitReady('ep-canary', a.revisionId, { timeoutMs: 5_000 })).state).toBe('ready');

    const b = revision({ endpointId: 'ep-canary', endpointName: 'canary-chat' });
    await kserve.deploy(b);
    let isvc = api.get(INFERENCE_SERVICES, 'kserve', 'canary-chat');
    expect(predictorOf(isvc).canaryTrafficPercent).toBe(0);
    expect(predictorOf(isvc).model.storageUri).toBe(b.model.storageUri);
    expect(predictorOf(isvc).annotations).toEqual({ [REVISION_KEYS.revision]: b.revisionId });
    expect(isvc!.metadata.annotations![REVISION_KEYS.previous]).toBe(a.revisionId);
    // The old revision keeps serving while the new one starts.
    expect((await kserve.status('ep-canary', a.revisionId)).state).toBe('ready');
    expect((await kserve.status('ep-canary', b.revisionId)).state).toBe('deploying');

    kserveReady('canary-chat', 'canary-chat-predictor-00002', {
      previousRolledoutRevision: 'canary-chat-predictor-00001',
      traffic: [
        {
          revisionName: 'canary-chat-predictor-00001',
          percent: 100,
          tag: 'prev',
          url: 'http://prev-canary-chat.kserve.example.com',
        },
        {
          revisionName: 'canary-chat-predictor-00002',
          percent: 0,
          tag: 'latest',
          latestRevision: true,
          url: 'http://latest-canary-chat.kserve.example.com',
        },
      ],
    });
    expect((await kserve.waitReady('ep-canary', b.revisionId, { timeoutMs: 5_000 })).state).toBe('ready');
    expect(kserve.target('ep-canary', a.revisionId)).toBe('http://prev-canary-chat.kserve.example.com');
    expect(kserve.target('ep-canary', b.revisionId)).toBe('http://latest-canary-chat.kserve.example.com');

    await kserve.setTraffic('ep-canary', { [a.revisionId]: 90, [b.revisionId]: 10 });
    expect(predictorOf(api.get(INFERENCE_SERVICES, 'kserve', 'canary-chat')).canaryTrafficPercent).toBe(10);
    await kserve.setTraffic('ep-canary', { [a.revisionId]: 0, [b.revisionId]: 100 });
    expect(predictorOf(api.get(INFERENCE_SERVICES, 'kserve', 'canary-chat'))).not.toHaveProperty(
      'canaryTrafficPercent',
    );

    await kserve.remove('ep-canary', a.revisionId);
    isvc = api.get(INFERENCE_SERVICES, 'kserve', 'canary-chat');
    expect(isvc!.metadata.annotations).not.toHaveProperty(REVISION_KEYS.previous);
    expect(isvc!.metadata.annotations).not.toHaveProperty(REVISION_KEYS.previousPredictor);
    expect((await kserve.status('ep-canary', a.revisionId)).state).toBe('removed');
    expect(predictorOf(isvc).model.storageUri).toBe(b.model.storageUri);
  });

  it('a rollback: traffic back to the old revision, then removing the new one restores the old predictor', async () => {
    const kserve = driver();
    const a = revision({ endpointId: 'ep-rollback', endpointName: 'rollback-chat' });
    await kserve.deploy(a);
    kserveReady('rollback-chat', 'rollback-chat-predictor-00001');
    const b = revision({ endpointId: 'ep-rollback', endpointName: 'rollback-chat' });
    await kserve.deploy(b);
    await kserve.setTraffic('ep-rollback', { [a.revisionId]: 90, [b.revisionId]: 10 });

    // A third revision cannot start while two are live.
    const c = revision({ endpointId: 'ep-rollback', endpointName: 'rollback-chat' });
    expect(await kubeError(kserve.deploy(c))).toMatchObject({ code: 'CONFLICT', retryable: false });

    await kserve.setTraffic('ep-rollback', { [a.revisionId]: 100, [b.revisionId]: 0 });
    expect(predictorOf(api.get(INFERENCE_SERVICES, 'kserve', 'rollback-chat')).canaryTrafficPercent).toBe(0);
    await kserve.remove('ep-rollback', b.revisionId);
    const isvc = api.get(INFERENCE_SERVICES, 'kserve', 'rollback-chat');
    expect(predictorOf(isvc).model.storageUri).toBe(a.model.storageUri);
    expect(predictorOf(isvc).canaryTrafficPercent).toBe(0);
    expect(isvc!.metadata.annotations![REVISION_KEYS.revision]).toBe(a.revisionId);
    expect((await kserve.status('ep-rollback', b.revisionId)).state).toBe('removed');
    // While Knative remakes the old revision from the restored spec, the old one serves the traffic.
    kserveReady('rollback-chat', 'rollback-chat-predictor-00002', {
      latestCreatedRevision: 'rollback-chat-predictor-00003',
      previousRolledoutRevision: 'rollback-chat-predictor-00001',
      traffic: [
        { revisionName: 'rollback-chat-predictor-00001', percent: 100, tag: 'prev' },
        { revisionName: 'rollback-chat-predictor-00003', percent: 0, tag: 'latest', latestRevision: true },
      ],
    });
    await new Promise((r) => setTimeout(r, 100));
    expect((await kserve.status('ep-rollback', a.revisionId)).state).toBe('ready');
    expect(kserve.target('ep-rollback', a.revisionId)).toBe('http://rollback-chat.kserve.example.com');

    // The last revision removed: the InferenceService goes.
    await kserve.remove('ep-rollback', a.revisionId);
    expect(api.get(INFERENCE_SERVICES, 'kserve', 'rollback-chat')).toBeNull();
    await kserve.remove('ep-rollback', a.revisionId); // a no-op
  });

  it('a model KServe cannot load fails the revision with its message', async () => {
    const kserve = driver();
    const d = revision({ endpointId: 'ep-broken', endpointName: 'broken' });
    await kserve.deploy(d);
    const waiting = kserve.waitReady('ep-broken', d.revisionId, { timeoutMs: 10_000 });
    api.setStatus(INFERENCE_SERVICES, 'kserve', 'broken', (o) => ({
      observedGeneration: o.metadata.generation,
      conditions: [
        { type: 'PredictorReady', status: 'False', reason: 'RevisionFailed', message: 'model not found' },
      ],
      modelStatus: {
        transitionStatus: 'BlockedByFailedLoad',
        lastFailureInfo: { reason: 'ModelLoadFailed', message: 'config.json is missing' },
      },
    }));
    const s = await waiting;
    expect(s).toMatchObject({ state: 'failed', message: 'BlockedByFailedLoad: config.json is missing' });
    expect(s.replicas.every((r) => r.state === 'failed')).toBe(true);
  });

  it('rides out 503s and a 410 Gone on the watch, still ready from watch events', async () => {
    const errors: KubeError[] = [];
    const kserve = driver({ onWatchError: (e) => errors.push(e) });
    api.failNext(3, { status: 503 });
    const d = revision({ endpointId: 'ep-flaky', endpointName: 'flaky' });
    await kserve.deploy(d);
    expect(api.get(INFERENCE_SERVICES, 'kserve', 'flaky')).not.toBeNull();

    const waiting = kserve.waitReady('ep-flaky', d.revisionId, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    // The watch drops, cannot reconnect for a while, and its resourceVersion is compacted meanwhile.
    api.failNext(1_000_000, { status: 503, method: 'GET' });
    api.dropWatches();
    kserveReady('flaky', 'flaky-predictor-00001');
    api.compact();
    api.clearFailures();
    expect((await waiting).state).toBe('ready');
    expect(errors.map((e) => e.code)).toContain('EXPIRED');
  });

  it('polls when watching is off', async () => {
    const kserve = driver({ watch: false, pollIntervalMs: 50, namespace: 'polled' });
    const d = revision({ endpointId: 'ep-poll', endpointName: 'polled' });
    await kserve.deploy(d);
    const waiting = kserve.waitReady('ep-poll', d.revisionId, { timeoutMs: 5_000 });
    api.setStatus(INFERENCE_SERVICES, 'polled', 'polled', (o) => ({
      observedGeneration: o.metadata.generation,
      url: 'http://polled.polled.example.com',
      conditions: [{ type: 'PredictorReady', status: 'True' }],
      components: { predictor: { latestCreatedRevision: 'p-1', latestReadyRevision: 'p-1' } },
    }));
    expect((await waiting).state).toBe('ready');
    const watches = api.requests.filter(
      (r) => r.path.includes('/namespaces/polled/') && r.path.includes('watch=true'),
    );
    expect(watches).toEqual([]);
  });

  it('waitReady rejects with TIMEOUT when the revision never becomes ready', async () => {
    const kserve = driver({ pollIntervalMs: 50 });
    const d = revision({ endpointId: 'ep-slow', endpointName: 'slow' });
    await kserve.deploy(d);
    const e = await kubeError(kserve.waitReady('ep-slow', d.revisionId, { timeoutMs: 200 }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('not ready after 200 ms');
  });

  it('an InferenceService the API server refuses (422) is an INVALID error naming the field', async () => {
    const kserve = driver();
    const d = revision({ endpointId: 'ep-huge', endpointName: 'huge', replicas: 2 ** 31 });
    const e = await kubeError(kserve.deploy(d));
    expect(e).toMatchObject({ code: 'INVALID', httpStatus: 422, retryable: false });
    expect(e.causes.map((c) => c.field)).toContain('spec.predictor.minReplicas');
    expect(api.get(INFERENCE_SERVICES, 'kserve', 'huge')).toBeNull();
  });

  it('refuses to take over an InferenceService of another endpoint with the same name', async () => {
    const kserve = driver();
    await kserve.deploy(revision({ endpointId: 'ep-one', endpointName: 'shared-name' }));
    const e = await kubeError(kserve.deploy(revision({ endpointId: 'ep-two', endpointName: 'shared-name' })));
    expect(e.message).toContain('belongs to endpoint ep-one');
  });

  it('finds an endpoint it did not deploy itself (a new platform process) by its label', async () => {
    const first = driver();
    const d = revision({ endpointId: 'ep-restart', endpointName: 'restarted' });
    await first.deploy(d);
    kserveReady('restarted', 'restarted-predictor-00001');
    const second = driver();
    // The request path knows it as soon as the new process's watch has listed the objects.
    const until = Date.now() + 5_000;
    while (second.target('ep-restart', d.revisionId) === null && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    expect(second.target('ep-restart', d.revisionId)).toBe('http://restarted.kserve.example.com');
    expect((await second.status('ep-restart', d.revisionId)).state).toBe('ready');
  });
});

describe('Ray Serve driver', () => {
  const rayDriver = () =>
    driver({
      framework: 'ray',
      namespace: 'ray',
      rayServeUrl: (name, ns) => `http://${name}.${ns}.test:8000`,
    });
  const running = (name: string) =>
    api.setStatus(RAY_SERVICES, 'ray', name, (o) => ({
      observedGeneration: o.metadata.generation,
      serviceStatus: 'Running',
      activeServiceStatus: {
        rayClusterName: `${name}-x1y2z`,
        applicationStatuses: { llm: { status: 'RUNNING' } },
        rayClusterStatus: { readyWorkerReplicas: 1, desiredWorkerReplicas: 1 },
      },
    }));

  it('one RayService per revision, each ready on its own; traffic is split by the platform', async () => {
    const ray = rayDriver();
    expect(ray.splitsTraffic).toBe(false);
    const a = revision({ endpointId: 'ep-ray', endpointName: 'ray-chat' });
    const b = revision({ endpointId: 'ep-ray', endpointName: 'ray-chat' });
    await ray.deploy(a);
    await ray.deploy(b);
    const names = api.list(RAY_SERVICES, 'ray').map((o) => o.metadata.name);
    expect(names).toHaveLength(2);
    for (const n of names) expect(n).toMatch(/^ray-chat-[0-9a-f]{8}$/);
    const [nameA, nameB] = [a, b].map(
      (r) =>
        api
          .list(RAY_SERVICES, 'ray')
          .find((o) => o.metadata.annotations![REVISION_KEYS.revision] === r.revisionId)!.metadata.name,
    );

    const waiting = ray.waitReady('ep-ray', a.revisionId, { timeoutMs: 5_000 });
    running(nameA!);
    const s = await waiting;
    expect(s.state).toBe('ready');
    expect(s.replicas).toEqual([
      { id: 'serve-0', state: 'ready', url: `http://${nameA}.ray.test:8000`, message: null, restarts: 0 },
    ]);
    expect(ray.target('ep-ray', a.revisionId)).toBe(`http://${nameA}.ray.test:8000`);
    expect(ray.target('ep-ray', b.revisionId)).toBeNull();

    const before = api.requests.length;
    await ray.setTraffic('ep-ray', { [a.revisionId]: 90, [b.revisionId]: 10 });
    expect(api.requests.length).toBe(before);

    await ray.remove('ep-ray', a.revisionId);
    expect(api.list(RAY_SERVICES, 'ray').map((o) => o.metadata.name)).toEqual([nameB]);
    expect((await ray.status('ep-ray', a.revisionId)).state).toBe('removed');
    await ray.remove('ep-ray', b.revisionId);
    expect(api.list(RAY_SERVICES, 'ray')).toEqual([]);
  });

  it('a Serve application that fails to deploy fails the revision', async () => {
    const ray = rayDriver();
    const d = revision({ endpointId: 'ep-ray-bad', endpointName: 'ray-bad' });
    await ray.deploy(d);
    const name = api.list(RAY_SERVICES, 'ray').find((o) => o.metadata.name.startsWith('ray-bad-'))!.metadata
      .name;
    api.setStatus(RAY_SERVICES, 'ray', name, (o) => ({
      observedGeneration: o.metadata.generation,
      pendingServiceStatus: {
        applicationStatuses: { llm: { status: 'DEPLOY_FAILED', message: 'no such model folder' } },
      },
    }));
    const s = await ray.waitReady('ep-ray-bad', d.revisionId, { timeoutMs: 5_000 });
    expect(s).toMatchObject({ state: 'failed', message: 'llm: DEPLOY_FAILED no such model folder' });
    await ray.remove('ep-ray-bad', d.revisionId);
  });
});
