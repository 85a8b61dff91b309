import { startFakeKubeApi, type FakeKubeApi } from '@llmops/testing';
import type { DeploymentSpec } from '@llmops/spec';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CRD_FILES, validateAgainstCrd } from '../crd.ts';
import { toInferenceService } from '../kserve.ts';
import { createKubeClient, type KubeClient } from './client.ts';
import { loadKubeConfig } from './kube-config.ts';
import { isKubeError, type KubeError } from './kube-error.ts';
import { INFERENCE_SERVICES, type KubeObject } from './resources.ts';
import { readInferenceServiceStatus } from './status.ts';
import type { KubeWatch, WatchEvent } from './watch.ts';

const NS = 'kserve';

const spec: DeploymentSpec = {
  model_ref: 'llama-3-8b-sft-v1',
  model_family: 'llama',
  job_type: 'SFT',
  serve_target: 'GENERATION',
  resources: { gpus: 1, gpu_memory_gb: 80 },
  runtime: { max_concurrent_requests: 16, max_input_tokens: 1024, max_output_tokens: 256 },
  rollout: { strategy: 'blue-green' },
  use_gpu: false,
};

let counter = 0;
function isvc(name = `isvc-${++counter}`): KubeObject {
  return toInferenceService(spec, {
    endpointId: `ep-${counter}`,
    name,
    namespace: NS,
    project: 'default',
    modelVersion: '1',
    storageUri: 's3://models/chat/1',
    image: 'registry.local/serve:cpu',
  }) as unknown as KubeObject;
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

const until = async (check: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

let api: FakeKubeApi;
let kube: KubeClient;
const watches: KubeWatch[] = [];

beforeAll(async () => {
  validateAgainstCrd({}, CRD_FILES.inferenceService); // compile the schema once (seconds)
  api = await startFakeKubeApi();
  kube = createKubeClient({
    kubeConfig: loadKubeConfig(api.connection),
    retryMinDelayMs: 10,
    retryMaxDelayMs: 50,
  });
}, 120_000);
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
});
afterAll(async () => api?.close());

describe('kubernetes client: create, get, delete', () => {
  it('creates an object the server stores with a resourceVersion, and reads it back', async () => {
    const created = await kube.create(INFERENCE_SERVICES, NS, isvc('create-me'));
    expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata.generation).toBe(1);
    const read = await kube.get(INFERENCE_SERVICES, NS, 'create-me');
    expect(read?.spec).toEqual(created.spec);
  });

  it('a second create of the same name is CONFLICT (AlreadyExists), not retryable', async () => {
    await kube.create(INFERENCE_SERVICES, NS, isvc('twice'));
    const e = await kubeError(kube.create(INFERENCE_SERVICES, NS, isvc('twice')));
    expect(e).toMatchObject({ code: 'CONFLICT', reason: 'AlreadyExists', httpStatus: 409, retryable: false });
  });

  it('get of a missing object is null; delete of a missing object is false', async () => {
    expect(await kube.get(INFERENCE_SERVICES, NS, 'never-was')).toBeNull();
    expect(await kube.delete(INFERENCE_SERVICES, NS, 'never-was')).toBe(false);
  });

  it('delete removes the object', async () => {
    await kube.create(INFERENCE_SERVICES, NS, isvc('short-lived'));
    expect(await kube.delete(INFERENCE_SERVICES, NS, 'short-lived')).toBe(true);
    expect(api.get(INFERENCE_SERVICES, NS, 'short-lived')).toBeNull();
  });

  it('an object the CRD schema refuses is INVALID (422) with the field, and nothing is stored', async () => {
    const bad = isvc('bad-field');
    (bad.spec!.predictor as Record<string, unknown>).minReplica = 1;
    const e = await kubeError(kube.create(INFERENCE_SERVICES, NS, bad));
    expect(e).toMatchObject({ code: 'INVALID', httpStatus: 422, reason: 'Invalid', retryable: false });
    expect(e.causes).toContainEqual({
      field: 'spec.predictor.minReplica',
      message: 'field is not defined by the CRD schema',
    });
    expect(api.get(INFERENCE_SERVICES, NS, 'bad-field')).toBeNull();
  });

  it('a wrong token is FORBIDDEN', async () => {
    const other = createKubeClient({
      kubeConfig: loadKubeConfig({ kind: 'url', server: api.url, token: 'wrong' }),
    });
    const e = await kubeError(other.get(INFERENCE_SERVICES, NS, 'x'));
    expect(e).toMatchObject({ code: 'FORBIDDEN', httpStatus: 401, retryable: false });
  });

  it('a refused connection is UNAVAILABLE and retryable after the retries', async () => {
    const closed = await startFakeKubeApi();
    await closed.close();
    const dead = createKubeClient({
      kubeConfig: loadKubeConfig(closed.connection),
      retries: 1,
      retryMinDelayMs: 5,
    });
    const e = await kubeError(dead.get(INFERENCE_SERVICES, NS, 'x'));
    expect(e).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});

describe('kubernetes client: patch, update, apply', () => {
  it('merge-patch and JSON-patch change the object and bump its resourceVersion', async () => {
    const o = await kube.create(INFERENCE_SERVICES, NS, isvc('patched'));
    const merged = await kube.patch(INFERENCE_SERVICES, NS, 'patched', {
      spec: { predictor: { canaryTrafficPercent: 0 } },
    });
    expect((merged.spec!.predictor as Record<string, unknown>).canaryTrafficPercent).toBe(0);
    expect(Number(merged.metadata.resourceVersion)).toBeGreaterThan(Number(o.metadata.resourceVersion));
    expect(merged.metadata.generation).toBe(2);
    const json = await kube.patch(
      INFERENCE_SERVICES,
      NS,
      'patched',
      [{ op: 'replace', path: '/spec/predictor/canaryTrafficPercent', value: 25 }],
      'json',
    );
    expect((json.spec!.predictor as Record<string, unknown>).canaryTrafficPercent).toBe(25);
  });

  it('a merge patch with a stale resourceVersion is CONFLICT (retryable)', async () => {
    const o = await kube.create(INFERENCE_SERVICES, NS, isvc('stale'));
    await kube.patch(INFERENCE_SERVICES, NS, 'stale', { metadata: { labels: { touched: 'yes' } } });
    const e = await kubeError(
      kube.patch(INFERENCE_SERVICES, NS, 'stale', {
        metadata: { resourceVersion: o.metadata.resourceVersion },
        spec: { predictor: { minReplicas: 2 } },
      }),
    );
    expect(e).toMatchObject({ code: 'CONFLICT', reason: 'Conflict', retryable: true });
  });

  it('update re-reads and retries when another writer changed the object in between', async () => {
    await kube.create(INFERENCE_SERVICES, NS, isvc('contended'));
    let calls = 0;
    const out = await kube.update(INFERENCE_SERVICES, NS, 'contended', (cur) => {
      calls++;
      // The controller writes status between our read and our patch, twice.
      if (calls <= 2) api.setStatus(INFERENCE_SERVICES, NS, 'contended', { observedGeneration: calls });
      (cur.spec!.predictor as Record<string, unknown>).canaryTrafficPercent = 10;
      return cur;
    });
    expect(calls).toBe(3);
    expect((out!.spec!.predictor as Record<string, unknown>).canaryTrafficPercent).toBe(10);
    const conflicts = api.requests.filter(
      (r) => r.path.split('?')[0]!.endsWith('/contended') && r.status === 409,
    );
    expect(conflicts).toHaveLength(2);
    // The status the controller wrote is still there: a write to the object never touches status.
    expect(api.get(INFERENCE_SERVICES, NS, 'contended')!.status).toEqual({ observedGeneration: 2 });
  });

  it('update gives up with CONFLICT after conflictRetries', async () => {
    const impatient = createKubeClient({ kubeConfig: loadKubeConfig(api.connection), conflictRetries: 1 });
    await kube.create(INFERENCE_SERVICES, NS, isvc('always-contended'));
    let n = 0;
    const e = await kubeError(
      impatient.update(INFERENCE_SERVICES, NS, 'always-contended', (cur) => {
        api.setStatus(INFERENCE_SERVICES, NS, 'always-contended', { observedGeneration: ++n });
        (cur.spec!.predictor as Record<string, unknown>).minReplicas = 2;
        return cur;
      }),
    );
    expect(e.code).toBe('CONFLICT');
    expect(n).toBe(2);
  });

  it('update of a missing object is null', async () => {
    expect(await kube.update(INFERENCE_SERVICES, NS, 'missing', (c) => c)).toBeNull();
  });

  it('apply creates, then leaves an equal object alone, then updates a changed one', async () => {
    const desired = isvc('applied');
    const first = await kube.apply(INFERENCE_SERVICES, NS, desired);
    expect(first.action).toBe('created');
    const again = await kube.apply(INFERENCE_SERVICES, NS, desired);
    expect(again.action).toBe('unchanged');
    expect(again.object.metadata.resourceVersion).toBe(first.object.metadata.resourceVersion);

    // Someone else's label stays; the platform's own labels follow the desired object.
    await kube.patch(INFERENCE_SERVICES, NS, 'applied', { metadata: { labels: { team: 'ml' } } });
    const changed = structuredClone(desired);
    (changed.spec!.predictor as Record<string, unknown>).maxReplicas = 3;
    delete changed.metadata.labels!['llmops/model-version'];
    const updated = await kube.apply(INFERENCE_SERVICES, NS, changed);
    expect(updated.action).toBe('updated');
    expect((updated.object.spec!.predictor as Record<string, unknown>).maxReplicas).toBe(3);
    expect(updated.object.metadata.labels).toMatchObject({ team: 'ml' });
    expect(updated.object.metadata.labels!['llmops/model-version']).toBeUndefined();
  });

  it('a removed field is removed (canaryTrafficPercent cleared by apply)', async () => {
    const desired = isvc('promote');
    const withCanary = structuredClone(desired);
    (withCanary.spec!.predictor as Record<string, unknown>).canaryTrafficPercent = 10;
    await kube.apply(INFERENCE_SERVICES, NS, withCanary);
    const out = await kube.apply(INFERENCE_SERVICES, NS, desired);
    expect(out.action).toBe('updated');
    expect(out.object.spec!.predictor).not.toHaveProperty('canaryTrafficPercent');
  });

  it('rides out an API server answering 503 for a while', async () => {
    api.failNext(3, { status: 503 });
    const before = api.requests.length;
    const out = await kube.apply(INFERENCE_SERVICES, NS, isvc('through-503'));
    expect(out.action).toBe('created');
    const seen = api.requests.slice(before).map((r) => r.status);
    expect(seen).toEqual([503, 503, 503, 201]);
  });

  it('gives up with UNAVAILABLE (retryable) when the 503s outlast the retries', async () => {
    const brief = createKubeClient({
      kubeConfig: loadKubeConfig(api.connection),
      retries: 2,
      retryMinDelayMs: 5,
    });
    api.failNext(3, { status: 503 });
    const e = await kubeError(brief.get(INFERENCE_SERVICES, NS, 'x'));
    expect(e).toMatchObject({ code: 'UNAVAILABLE', httpStatus: 503, retryable: true });
  });
});

describe('kubernetes client: watch', () => {
  const collect = (labelSelector: string) => {
    const events: WatchEvent[] = [];
    const errors: KubeError[] = [];
    const w = kube.watch(INFERENCE_SERVICES, NS, {
      labelSelector,
      onEvent: (e) => events.push(e),
      onError: (e) => errors.push(e),
      reconnectDelayMs: { min: 10, max: 50 },
    });
    watches.push(w);
    return { w, events, errors, seen: () => events.map((e) => `${e.type} ${e.object.metadata.name}`) };
  };
  const labelled = (name: string, group: string) => {
    const o = isvc(name);
    o.metadata.labels!.group = group;
    return o;
  };

  it('lists, then streams ADDED, MODIFIED and DELETED until the object is Ready', async () => {
    await kube.create(INFERENCE_SERVICES, NS, labelled('w-existing', 'w1'));
    const { w, events, seen } = collect('group=w1');
    await w.synced;
    await kube.create(INFERENCE_SERVICES, NS, labelled('w-new', 'w1'));
    await kube.create(INFERENCE_SERVICES, NS, labelled('w-other', 'elsewhere'));
    api.setStatus(INFERENCE_SERVICES, NS, 'w-new', {
      url: 'http://w-new.kserve.example.com',
      conditions: [
        { type: 'PredictorReady', status: 'True' },
        { type: 'IngressReady', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      components: {
        predictor: {
          latestReadyRevision: 'w-new-predictor-00001',
          latestCreatedRevision: 'w-new-predictor-00001',
          traffic: [{ revisionName: 'w-new-predictor-00001', percent: 100, latestRevision: true }],
        },
      },
    });
    await kube.delete(INFERENCE_SERVICES, NS, 'w-existing');
    await until(() => events.length >= 4);
    expect(seen()).toEqual(['ADDED w-existing', 'ADDED w-new', 'MODIFIED w-new', 'DELETED w-existing']);
    const status = readInferenceServiceStatus(events[2]!.object);
    expect(status).toMatchObject({ ready: true, url: 'http://w-new.kserve.example.com' });
    expect(status.predictor.traffic).toEqual([
      { revisionName: 'w-new-predictor-00001', percent: 100, latestRevision: true, tag: null, url: null },
    ]);
  });

  it('reconnects after a drop and resumes from the last resourceVersion without repeating events', async () => {
    const { w, events, errors, seen } = collect('group=w2');
    await w.synced;
    await kube.create(INFERENCE_SERVICES, NS, labelled('w2-a', 'w2'));
    await until(() => events.length === 1);
    expect(api.dropWatches()).toBeGreaterThan(0);
    // Written while the watch is down: delivered once it is back.
    await kube.create(INFERENCE_SERVICES, NS, labelled('w2-b', 'w2'));
    await until(() => events.length === 2);
    await kube.create(INFERENCE_SERVICES, NS, labelled('w2-c', 'w2'));
    await until(() => events.length === 3);
    expect(seen()).toEqual(['ADDED w2-a', 'ADDED w2-b', 'ADDED w2-c']);
    expect(w.lists()).toBe(1);
    const resumed = api.requests.filter(
      (r) => r.path.includes('watch=true') && r.path.includes('group%3Dw2'),
    );
    expect(resumed.length).toBeGreaterThanOrEqual(2);
    expect(errors.every((e) => e.code !== 'EXPIRED')).toBe(true);
  });

  it('relists after 410 Gone and reports what changed while the watch was away', async () => {
    await kube.create(INFERENCE_SERVICES, NS, labelled('w3-kept', 'w3'));
    await kube.create(INFERENCE_SERVICES, NS, labelled('w3-deleted', 'w3'));
    const { w, events, errors, seen } = collect('group=w3');
    await w.synced;
    expect(seen()).toEqual(['ADDED w3-kept', 'ADDED w3-deleted']);
    // The API server restarts (watches drop) while the history is compacted past our resourceVersion.
    api.failNext(1_000_000, { status: 503, method: 'GET' });
    api.dropWatches();
    await kube.patch(INFERENCE_SERVICES, NS, 'w3-kept', { spec: { predictor: { maxReplicas: 2 } } });
    await kube.delete(INFERENCE_SERVICES, NS, 'w3-deleted');
    await kube.create(INFERENCE_SERVICES, NS, labelled('w3-added', 'w3'));
    api.compact();
    api.clearFailures();
    await until(() => events.length >= 5);
    expect(errors.map((e) => e.code)).toContain('EXPIRED');
    expect(w.lists()).toBe(2);
    expect(seen().slice(2).sort()).toEqual(['ADDED w3-added', 'DELETED w3-deleted', 'MODIFIED w3-kept']);
  });
});
