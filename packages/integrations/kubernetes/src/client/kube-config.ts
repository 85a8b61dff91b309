import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { PlatformEnv } from '@llmops/config';

/** How the platform reaches the Kubernetes API. */
export type KubeConnection =
  | { kind: 'url'; server: string; token?: string; caFile?: string }
  | { kind: 'kubeconfig'; path: string; context?: string }
  | { kind: 'in-cluster' };

/** Where a pod's service account token is mounted. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

type KubeEnv = Pick<
  PlatformEnv,
  'KUBERNETES_API_URL' | 'KUBERNETES_TOKEN' | 'KUBERNETES_CA_FILE' | 'KUBECONFIG' | 'KUBERNETES_CONTEXT'
>;

/**
 * The connection configuration asks for, in this order: an explicit API server URL (with its token and
 * CA), a kubeconfig file, the in-cluster service account. Null when none is configured (the platform
 * is not running in a pod and nothing is set).
 */
export function kubeConnectionFromEnv(
  env: KubeEnv,
  inCluster = process.env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(SERVICE_ACCOUNT_TOKEN),
): KubeConnection | null {
  if (env.KUBERNETES_API_URL)
    return {
      kind: 'url',
      server: env.KUBERNETES_API_URL,
      ...(env.KUBERNETES_TOKEN ? { token: env.KUBERNETES_TOKEN } : {}),
      ...(env.KUBERNETES_CA_FILE ? { caFile: env.KUBERNETES_CA_FILE } : {}),
    };
  if (env.KUBECONFIG)
    return {
      kind: 'kubeconfig',
      path: env.KUBECONFIG,
      ...(env.KUBERNETES_CONTEXT ? { context: env.KUBERNETES_CONTEXT } : {}),
    };
  return inCluster ? { kind: 'in-cluster' } : null;
}

/** A KubeConfig for the connection; a kubeconfig without the context asked for is an error naming it. */
export function loadKubeConfig(conn: KubeConnection): KubeConfig {
  const kc = new KubeConfig();
  if (conn.kind === 'in-cluster') {
    kc.loadFromCluster();
    return kc;
  }
  if (conn.kind === 'kubeconfig') {
    if (!existsSync(conn.path)) throw new Error(`KUBECONFIG: file "${conn.path}" does not exist`);
    kc.loadFromFile(conn.path);
    if (conn.context) {
      if (!kc.getContextObject(conn.context))
        throw new Error(
          `KUBERNETES_CONTEXT: "${conn.context}" is not a context of ${conn.path} (it has: ${kc
            .getContexts()
            .map((c) => c.name)
            .join(', ')})`,
        );
      kc.setCurrentContext(conn.context);
    }
    return kc;
  }
  kc.loadFromOptions({
    clusters: [
      {
        name: 'platform',
        server: conn.server,
        // The library refuses plain http unless TLS checks are off; for https they stay on.
        skipTLSVerify: conn.server.startsWith('http:'),
        ...(conn.caFile ? { caFile: conn.caFile } : {}),
      },
    ],
    users: [{ name: 'platform', ...(conn.token ? { token: conn.token } : {}) }],
    contexts: [{ name: 'platform', cluster: 'platform', user: 'platform' }],
    currentContext: 'platform',
  });
  return kc;
}
