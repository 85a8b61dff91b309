import { describe, expect, it } from 'vitest';
import { kubernetesServingDriverFromEnv } from './from-env.ts';

describe('kubernetesServingDriverFromEnv', () => {
  it('makes the driver of the configured framework for an explicit API server', async () => {
    const env = {
      KUBERNETES_API_URL: 'https://k8s.example:6443',
      KUBERNETES_TOKEN: 't',
      ENVIRONMENT: 'dev' as const,
    };
    const kserve = kubernetesServingDriverFromEnv(
      env,
      { backend: 'kserve', namespace: 'kserve' },
      { inCluster: false },
    );
    const ray = kubernetesServingDriverFromEnv(
      env,
      { backend: 'ray', namespace: 'default' },
      { inCluster: false },
    );
    expect([kserve.name, kserve.splitsTraffic, ray.name, ray.splitsTraffic]).toEqual([
      'kserve',
      true,
      'ray',
      false,
    ]);
    await Promise.all([kserve.close(), ray.close()]);
  });

  it('names the variables to set when no Kubernetes API is configured', () => {
    expect(() =>
      kubernetesServingDriverFromEnv(
        { ENVIRONMENT: 'dev' },
        { backend: 'kserve', namespace: 'kserve' },
        { inCluster: false },
      ),
    ).toThrow('SERVING_FRAMEWORK_DEFAULT=kserve needs a Kubernetes API: set KUBERNETES_API_URL');
  });

  it('refuses the local backend', () => {
    expect(() =>
      kubernetesServingDriverFromEnv({ ENVIRONMENT: 'dev' }, { backend: 'local', namespace: 'kserve' }),
    ).toThrow('the local serving backend has no Kubernetes driver');
  });
});
