import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeConnectionFromEnv, loadKubeConfig } from './kube-config.ts';
import { codeForStatus, kubeErrorFromStatus, toKubeError } from './kube-error.ts';
import { applyMergePatch, mergePatchBetween } from './merge-patch.ts';
import { readInferenceServiceStatus, readRayServiceStatus } from './status.ts';

describe('kubeConnectionFromEnv', () => {
  it('prefers an explicit API server URL with its token and CA', () => {
    expect(
      kubeConnectionFromEnv(
        {
          KUBERNETES_API_URL: 'https://k8s:6443',
          KUBERNETES_TOKEN: 't',
          KUBERNETES_CA_FILE: '/ca.pem',
          KUBECONFIG: '/kc',
        },
        true,
      ),
    ).toEqual({ kind: 'url', server: 'https://k8s:6443', token: 't', caFile: '/ca.pem' });
  });

  it('then KUBECONFIG with its context, then the in-cluster account, else null', () => {
    expect(kubeConnectionFromEnv({ KUBECONFIG: '/kc', KUBERNETES_CONTEXT: 'prod' }, true)).toEqual({
      kind: 'kubeconfig',
      path: '/kc',
      context: 'prod',
    });
    expect(kubeConnectionFromEnv({}, true)).toEqual({ kind: 'in-cluster' });
    expect(kubeConnectionFromEnv({}, false)).toBeNull();
  });
});

describe('loadKubeConfig', () => {
  const kubeconfig = () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kc-')), 'config');
    writeFileSync(
      path,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://k8s.example:6443' } }],
        users: [{ name: 'u', user: { token: 'abc' } }],
        contexts: [{ name: 'prod', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'prod',
      }),
    );
    return path;
  };

  it('reads a kubeconfig file and selects the context asked for', () => {
    const kc = loadKubeConfig({ kind: 'kubeconfig', path: kubeconfig(), context: 'prod' });
    expect(kc.getCurrentCluster()?.server).toBe('https://k8s.example:6443');
  });

  it('names a context the file does not have, and a file that does not exist', () => {
    expect(() => loadKubeConfig({ kind: 'kubeconfig', path: kubeconfig(), context: 'staging' })).toThrow(
      'KUBERNETES_CONTEXT: "staging" is not a context of',
    );
    expect(() => loadKubeConfig({ kind: 'kubeconfig', path: '/nowhere/kubeconfig' })).toThrow(
      'KUBECONFIG: file "/nowhere/kubeconfig" does not exist',
    );
  });

  it('an explicit https URL keeps TLS verification on', () => {
    const kc = loadKubeConfig({ kind: 'url', server: 'https://k8s:6443', token: 't' });
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://k8s:6443', skipTLSVerify: false });
  });
});

describe('KubeError mapping', () => {
  it.each([
    [404, 'NOT_FOUND', false],
    [401, 'FORBIDDEN', false],
    [403, 'FORBIDDEN', false],
    [400, 'INVALID', false],
    [422, 'INVALID', false],
    [410, 'EXPIRED', false],
    [429, 'UNAVAILABLE', true],
    [500, 'UNAVAILABLE', true],
    [503, 'UNAVAILABLE', true],
    [504, 'TIMEOUT', true],
  ] as const)('HTTP %i is %s (retryable: %s)', (status, code, retryable) => {
    expect(codeForStatus(status)).toBe(code);
    expect(kubeErrorFromStatus('get x', status, null).retryable).toBe(retryable);
  });

  it('409 AlreadyExists is not retryable; 409 Conflict (stale resourceVersion) is', () => {
    const exists = kubeErrorFromStatus('create x', 409, {
      kind: 'Status',
      reason: 'AlreadyExists',
      message: 'm',
    });
    const stale = kubeErrorFromStatus('patch x', 409, JSON.stringify({ kind: 'Status', reason: 'Conflict' }));
    expect(exists).toMatchObject({ code: 'CONFLICT', reason: 'AlreadyExists', retryable: false });
    expect(stale).toMatchObject({ code: 'CONFLICT', reason: 'Conflict', retryable: true });
  });

  it('socket errors are UNAVAILABLE and aborts are TIMEOUT, both retryable', () => {
    expect(toKubeError('get x', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toMatchObject(
      {
        code: 'UNAVAILABLE',
        retryable: true,
      },
    );
    expect(toKubeError('get x', Object.assign(new Error('aborted'), { name: 'AbortError' }))).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });
  });
});

describe('merge patches', () => {
  it('mergePatchBetween gives the RFC 7386 patch that applyMergePatch turns back into the target', () => {
    const from = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: 'x' };
    const to = { a: 1, b: { c: 5, d: 3 }, list: [2], added: { e: true } };
    const patch = mergePatchBetween(from, to);
    expect(patch).toEqual({ b: { c: 5 }, list: [2], added: { e: true }, gone: null });
    expect(applyMergePatch(from, patch)).toEqual(to);
    expect(mergePatchBetween(to, structuredClone(to))).toEqual({});
  });
});

describe('status readers', () => {
  it('read an InferenceService status during a canary', () => {
    const s = readInferenceServiceStatus({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'chat', generation: 3 },
      spec: { predictor: { canaryTrafficPercent: 10 } },
      status: {
        observedGeneration: 3,
        url: 'http://chat.kserve.example.com',
        conditions: [
          { type: 'PredictorReady', status: 'True' },
          { type: 'Ready', status: 'True' },
        ],
        components: {
          predictor: {
            latestCreatedRevision: 'chat-predictor-00002',
            latestReadyRevision: 'chat-predictor-00002',
            previousRolledoutRevision: 'chat-predictor-00001',
            traffic: [
              { revisionName: 'chat-predictor-00001', percent: 90, tag: 'prev' },
              { revisionName: 'chat-predictor-00002', percent: 10, latestRevision: true, tag: 'latest' },
            ],
          },
        },
        modelStatus: { copies: { totalCopies: 2, failedCopies: 0 } },
      },
    });
    expect(s).toMatchObject({
      upToDate: true,
      ready: true,
      url: 'http://chat.kserve.example.com',
      canaryTrafficPercent: 10,
      copies: { total: 2, failed: 0 },
      failure: null,
    });
    expect(s.predictor.traffic.map((t) => [t.revisionName, t.percent])).toEqual([
      ['chat-predictor-00001', 90],
      ['chat-predictor-00002', 10],
    ]);
  });

  it('a status the controller has not caught up with is not up to date', () => {
    const s = readInferenceServiceStatus({
      apiVersion: 'v',
      kind: 'k',
      metadata: { name: 'x', generation: 2 },
      status: { observedGeneration: 1 },
    });
    expect(s.upToDate).toBe(false);
  });

  it('read a RayService: Running with healthy applications is ready, DEPLOY_FAILED is a failure', () => {
    const running = readRayServiceStatus({
      apiVersion: 'ray.io/v1',
      kind: 'RayService',
      metadata: { name: 'chat' },
      status: {
        serviceStatus: 'Running',
        activeServiceStatus: {
          rayClusterName: 'chat-abc12',
          applicationStatuses: { llm: { status: 'RUNNING' } },
          rayClusterStatus: { readyWorkerReplicas: 2, desiredWorkerReplicas: 2 },
        },
      },
    });
    expect(running).toMatchObject({ ready: true, failure: null, workers: { ready: 2, desired: 2 } });
    const failed = readRayServiceStatus({
      apiVersion: 'ray.io/v1',
      kind: 'RayService',
      metadata: { name: 'chat' },
      status: {
        pendingServiceStatus: {
          applicationStatuses: { llm: { status: 'DEPLOY_FAILED', message: 'no model' } },
        },
      },
    });
    expect(failed).toMatchObject({ ready: false, failure: 'llm: DEPLOY_FAILED no model' });
  });
});
