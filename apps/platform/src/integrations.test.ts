import { describe, expect, it } from 'vitest';
import { loadEnv } from '@llmops/config';
import { integrationsInfo } from './integrations.ts';

const info = (vars: Record<string, string>) => integrationsInfo(loadEnv({ ...vars }));

describe('integrations of the platform process', () => {
  it('checks the addresses the platform uses and says why others are not checked', () => {
    const i = info({ TEMPORAL_ADDRESS: '127.0.0.1:7233', KUBERNETES_API_URL: 'https://k8s.local:6443' });
    expect(i.targets.temporal).toEqual({ kind: 'address', address: '127.0.0.1:7233' });
    expect(i.targets.kubernetes).toEqual({ kind: 'address', address: 'https://k8s.local:6443' });
    expect(i.targets.huggingface_hub).toMatchObject({ kind: 'not_checked' });
    expect(i.targets.dvc).toMatchObject({ kind: 'disabled', reason: 'no DVC_REMOTE_URL configured' });
  });

  it('reports switched-off integrations as disabled', () => {
    const i = info({
      HUGGINGFACE_HUB_ENABLED: 'false',
      MODEL_REGISTRY_ENABLED: 'false',
      DVC_ENABLED: 'false',
      DATA_VERSIONING_ENABLED: 'false',
    });
    expect(i.targets.temporal).toMatchObject({ kind: 'disabled' });
    expect(i.targets.huggingface_hub).toMatchObject({ kind: 'disabled' });
    expect(i.targets.dvc).toMatchObject({ kind: 'disabled' });
    expect(i.features.find((f) => f.key === 'data_versioning')).toEqual({
      key: 'data_versioning',
      enabled: false,
      system: 'dvc',
    });
  });

  it('names an object-store remote without probing it', () => {
    expect(info({ DVC_REMOTE_URL: 's3://datasets-dvc' }).targets.dvc).toEqual({
      kind: 'not_checked',
      reason: 'remote s3:// is not probed',
    });
  });

  it('lists every feature flag with its system', () => {
    expect(info({}).features.map((f) => f.key)).toEqual([
      'experiment_tracking',
      'serving_framework',
      'workflow_orchestration',
      'model_registry',
      'data_versioning',
    ]);
  });
});
