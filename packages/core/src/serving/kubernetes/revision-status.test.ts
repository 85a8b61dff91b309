import type { KubeObject } from '@llmops/integrations-kubernetes';
import { describe, expect, it } from 'vitest';
import {
  inferenceServiceRevisionStatus,
  rayServiceRevisionStatus,
  REVISION_KEYS,
} from './revision-status.ts';

const isvc = (
  annotations: Record<string, string>,
  status: Record<string, unknown>,
  generation = 2,
): KubeObject => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name: 'chat', namespace: 'kserve', generation, annotations },
  spec: { predictor: {} },
  status,
});

describe('inferenceServiceRevisionStatus', () => {
  const both = { [REVISION_KEYS.revision]: 'new', [REVISION_KEYS.previous]: 'old' };

  it('the new revision deploys until the controller has seen its spec', () => {
    const s = inferenceServiceRevisionStatus(
      isvc(both, { observedGeneration: 1, conditions: [{ type: 'PredictorReady', status: 'True' }] }),
      'ep',
      'new',
    );
    expect(s).toMatchObject({
      state: 'deploying',
      message: 'waiting for the KServe controller to act on the new spec',
    });
  });

  it('the new revision is not ready while the latest created Knative revision is not the latest ready one', () => {
    const s = inferenceServiceRevisionStatus(
      isvc(both, {
        observedGeneration: 2,
        conditions: [
          { type: 'PredictorReady', status: 'True' },
          { type: 'Ready', status: 'Unknown', message: 'revision chat-predictor-00002 is starting' },
        ],
        components: {
          predictor: {
            latestCreatedRevision: 'chat-predictor-00002',
            latestReadyRevision: 'chat-predictor-00001',
          },
        },
      }),
      'ep',
      'new',
    );
    expect(s).toMatchObject({
      state: 'deploying',
      message: 'Ready: revision chat-predictor-00002 is starting',
    });
  });

  it('the previous revision is ready while it is in the traffic, and not once the controller dropped it', () => {
    const inTraffic = isvc(both, {
      observedGeneration: 2,
      components: {
        predictor: {
          previousRolledoutRevision: 'chat-predictor-00001',
          traffic: [{ revisionName: 'chat-predictor-00001', percent: 100 }],
        },
      },
    });
    expect(inferenceServiceRevisionStatus(inTraffic, 'ep', 'old').state).toBe('ready');
    const dropped = isvc(both, { observedGeneration: 2, components: { predictor: { traffic: [] } } });
    expect(inferenceServiceRevisionStatus(dropped, 'ep', 'old').state).toBe('deploying');
  });

  it('a revision the InferenceService does not name, or no InferenceService, is removed', () => {
    expect(inferenceServiceRevisionStatus(isvc(both, {}), 'ep', 'other').state).toBe('removed');
    expect(inferenceServiceRevisionStatus(null, 'ep', 'new').state).toBe('removed');
    const deleting = isvc(both, {});
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(inferenceServiceRevisionStatus(deleting, 'ep', 'new')).toMatchObject({
      state: 'removed',
      message: 'the InferenceService is being deleted',
    });
  });

  it('reports one replica per model copy', () => {
    const s = inferenceServiceRevisionStatus(
      isvc(
        { [REVISION_KEYS.revision]: 'new' },
        {
          observedGeneration: 2,
          url: 'http://chat',
          conditions: [{ type: 'PredictorReady', status: 'True' }],
          components: { predictor: { latestCreatedRevision: 'a', latestReadyRevision: 'a' } },
          modelStatus: { copies: { totalCopies: 2, failedCopies: 1 } },
        },
      ),
      'ep',
      'new',
    );
    expect(s.state).toBe('ready');
    expect(s.replicas.map((r) => [r.id, r.state, r.url])).toEqual([
      ['predictor-0', 'ready', 'http://chat'],
      ['predictor-1', 'starting', null],
    ]);
  });
});

describe('rayServiceRevisionStatus', () => {
  const rs = (status: Record<string, unknown>, generation = 1): KubeObject => ({
    apiVersion: 'ray.io/v1',
    kind: 'RayService',
    metadata: { name: 'chat-1', namespace: 'default', generation },
    status,
  });

  it('waits for the operator, then follows the Ready condition', () => {
    expect(rayServiceRevisionStatus(rs({ observedGeneration: 0 }), 'ep', 'r', 'http://u').message).toBe(
      'waiting for the KubeRay operator',
    );
    const ready = rayServiceRevisionStatus(
      rs({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] }),
      'ep',
      'r',
      'http://u',
    );
    expect(ready).toMatchObject({ state: 'ready', replicas: [{ id: 'serve', url: 'http://u' }] });
  });
});
