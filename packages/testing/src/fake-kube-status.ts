import type { KubeObject } from '@llmops/integrations-kubernetes';

/** The `Status` object the Kubernetes API server answers errors (and deletes) with. */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: Record<string, unknown>;
  code: number;
}

export function kubeStatus(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): StatusBody {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/**
 * Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated) and the field
 * selectors `metadata.name` and `metadata.namespace`, as the API server evaluates them.
 */
export function matchesSelectors(
  o: KubeObject,
  labelSelector: string | undefined,
  fieldSelector: string | undefined,
): boolean {
  const labels = o.metadata.labels ?? {};
  for (const term of (labelSelector ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const m = /^(!)?([^!=]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
    if (!m) return false;
    const [, not, k, op, v] = m;
    const has = k! in labels;
    if (!op && (not ? has : !has)) return false;
    if (op === '!=' && labels[k!] === v) return false;
    if ((op === '=' || op === '==') && labels[k!] !== v) return false;
  }
  for (const term of (fieldSelector ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const m = /^([^!=]+?)(==|=|!=)(.*)$/.exec(term);
    if (!m) return false;
    const [, field, op, v] = m;
    const actual =
      field === 'metadata.name'
        ? o.metadata.name
        : field === 'metadata.namespace'
          ? o.metadata.namespace
          : undefined;
    if (op === '!=' ? actual === v : actual !== v) return false;
  }
  return true;
}
