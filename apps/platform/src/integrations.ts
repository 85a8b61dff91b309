import { featureFlags, type PlatformEnv } from '@llmops/config';
import type { IntegrationTarget } from '@llmops/core';
import type { IntegrationsInfo } from '@llmops/server';

/**
 * Where each integration of this process lives, from its environment, for GET /integrations. Only
 * addresses the platform itself would use are checked; the public Hugging Face Hub and object-store DVC
 * remotes are named but not probed.
 */
export function integrationsInfo(env: PlatformEnv): IntegrationsInfo {
  const flags = featureFlags(env);
  const temporal: IntegrationTarget = env.TEMPORAL_ADDRESS
    ? { kind: 'address', address: env.TEMPORAL_ADDRESS }
    : { kind: 'disabled', reason: 'no TEMPORAL_ADDRESS: jobs are stored but not run' };
  const kubernetes: IntegrationTarget = env.KUBERNETES_API_URL
    ? { kind: 'address', address: env.KUBERNETES_API_URL }
    : env.KUBECONFIG
      ? { kind: 'not_checked', reason: `the API server of kubeconfig ${env.KUBECONFIG} is not probed` }
      : { kind: 'disabled', reason: 'no KUBERNETES_API_URL or KUBECONFIG configured' };
  const hub: IntegrationTarget = !env.HUGGINGFACE_HUB_ENABLED
    ? { kind: 'disabled', reason: 'HUGGINGFACE_HUB_ENABLED is false' }
    : env.HF_ENDPOINT
      ? { kind: 'address', address: env.HF_ENDPOINT }
      : { kind: 'not_checked', reason: 'the public Hub (no HF_ENDPOINT set) is not probed' };
  const dvcOn = flags.dataVersioning.enabled;
  const remote = env.DVC_REMOTE_URL;
  const dvc: IntegrationTarget = !dvcOn
    ? { kind: 'disabled', reason: 'data versioning is off (DATA_VERSIONING_ENABLED, DVC_ENABLED)' }
    : remote && /^https?:\/\//.test(remote)
      ? { kind: 'address', address: remote }
      : remote
        ? { kind: 'not_checked', reason: `remote ${remote.split('://')[0]}:// is not probed` }
        : { kind: 'disabled', reason: 'no DVC_REMOTE_URL configured' };
  return {
    targets: { temporal, kubernetes, huggingface_hub: hub, dvc },
    features: [
      { key: 'experiment_tracking', ...pick(flags.experimentTracking) },
      { key: 'serving_framework', ...pick(flags.servingFramework) },
      { key: 'workflow_orchestration', ...pick(flags.workflowOrchestration) },
      { key: 'model_registry', ...pick(flags.modelRegistry) },
      { key: 'data_versioning', ...pick(flags.dataVersioning) },
    ],
  };
}

const pick = (f: { enabled: boolean; system: string }) => ({ enabled: f.enabled, system: f.system });
