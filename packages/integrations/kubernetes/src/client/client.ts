import {
  CustomObjectsApi,
  Observable,
  PatchStrategy,
  type KubeConfig,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import pRetry from 'p-retry';
import { isKubeError, KubeError, toKubeError } from './kube-error.ts';
import { mergePatchBetween } from './merge-patch.ts';
import { describeResource, type CustomResource, type KubeObject } from './resources.ts';
import { startWatch, type KubeWatch, type WatchOptions } from './watch.ts';

export interface KubeClientOptions {
  kubeConfig: KubeConfig;
  /** Per request (default 15 s); a request without an answer by then fails with TIMEOUT. */
  requestTimeoutMs?: number;
  /** Retries of a request that failed with UNAVAILABLE or TIMEOUT (default 5), with exponential backoff. */
  retries?: number;
  /** First and longest wait between those retries (default 200 ms and 5 s). */
  retryMinDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Re-reads after a 409 Conflict on a stale resourceVersion before giving up (default 5). */
  conflictRetries?: number;
  /** `fieldManager` of every write (default "llmops"). */
  fieldManager?: string;
}

export type PatchType = 'merge' | 'json';

export interface ApplyResult {
  object: KubeObject;
  action: 'created' | 'updated' | 'unchanged';
}

/** The operations the serving drivers need on namespaced custom resources. */
export interface KubeClient {
  /** The object, or null when it does not exist. */
  get(r: CustomResource, namespace: string, name: string): Promise<KubeObject | null>;
  list(
    r: CustomResource,
    namespace: string,
    opts?: { labelSelector?: string; fieldSelector?: string },
  ): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /** Fails with CONFLICT (reason AlreadyExists) when an object of that name exists. */
  create(r: CustomResource, namespace: string, body: KubeObject): Promise<KubeObject>;
  patch(
    r: CustomResource,
    namespace: string,
    name: string,
    patch: unknown,
    type?: PatchType,
  ): Promise<KubeObject>;
  /**
   * Read-modify-write: reads the object, lets `mutate` return the wanted object (or null: leave it), and
   * sends the difference as a merge patch carrying the resourceVersion it read. A 409 Conflict (someone
   * wrote in between) re-reads and tries again, at most `conflictRetries` times. Returns null when the
   * object does not exist; only metadata.labels, metadata.annotations and spec are compared.
   */
  update(
    r: CustomResource,
    namespace: string,
    name: string,
    mutate: (current: KubeObject) => KubeObject | null,
  ): Promise<KubeObject | null>;
  /**
   * Creates the object, or when it exists makes its spec, and the labels and annotations it names,
   * equal to `desired` (see update). Labels and annotations others added are kept, except `llmops/*`
   * keys `desired` no longer has.
   */
  apply(r: CustomResource, namespace: string, desired: KubeObject): Promise<ApplyResult>;
  /** True when it deleted the object, false when there was none. */
  delete(r: CustomResource, namespace: string, name: string): Promise<boolean>;
  /** Watches objects of `r` in `namespace`; see WatchOptions. */
  watch(r: CustomResource, namespace: string, opts: WatchOptions): KubeWatch;
}

const OWN_KEY = /^llmops\//;

function compared(o: KubeObject) {
  return {
    metadata: { labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {} },
    spec: o.spec ?? {},
  };
}

/** The wanted object for apply: desired spec, desired labels/annotations over the current ones. */
export function appliedOver(current: KubeObject, desired: KubeObject): KubeObject {
  const merge = (cur: Record<string, string> = {}, want: Record<string, string> = {}) => {
    const kept = Object.entries(cur).filter(([k]) => !OWN_KEY.test(k) || k in want);
    return { ...Object.fromEntries(kept), ...want };
  };
  return {
    ...current,
    metadata: {
      ...current.metadata,
      labels: merge(current.metadata.labels, desired.metadata.labels),
      annotations: merge(current.metadata.annotations, desired.metadata.annotations),
    },
    spec: structuredClone(desired.spec ?? {}),
  };
}

export function createKubeClient(opts: KubeClientOptions): KubeClient {
  const api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  const timeoutMs = opts.requestTimeoutMs ?? 15_000;
  const fieldManager = opts.fieldManager ?? 'llmops';
  const conflictRetries = opts.conflictRetries ?? 5;

  // A signal per request: the generated client has no timeout of its own.
  const requestOptions = (contentType?: string) => ({
    middlewareMergeStrategy: 'append' as const,
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          if (contentType) ctx.setHeaderParam('Content-Type', contentType);
          return new Observable(Promise.resolve(ctx));
        },
        post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
      },
    ],
  });

  /** One API call with retries of UNAVAILABLE and TIMEOUT; anything else fails at once as a KubeError. */
  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return pRetry(
      async () => {
        try {
          return await fn();
        } catch (e) {
          throw toKubeError(operation, e);
        }
      },
      {
        retries: opts.retries ?? 5,
        minTimeout: opts.retryMinDelayMs ?? 200,
        maxTimeout: opts.retryMaxDelayMs ?? 5_000,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) =>
          isKubeError(error) && (error.code === 'UNAVAILABLE' || error.code === 'TIMEOUT') && error.retryable,
      },
    );
  }

  const base = (r: CustomResource, namespace: string) => ({
    group: r.group,
    version: r.version,
    namespace,
    plural: r.plural,
  });
  const op = (verb: string, r: CustomResource, namespace: string, name?: string) =>
    `${verb} ${describeResource(r)} ${namespace}${name ? `/${name}` : ''}`;

  const client: KubeClient = {
    async get(r, namespace, name) {
      try {
        return (await call(op('get', r, namespace, name), () =>
          api.getNamespacedCustomObject({ ...base(r, namespace), name }, requestOptions()),
        )) as KubeObject;
      } catch (e) {
        if (isKubeError(e) && e.code === 'NOT_FOUND') return null;
        throw e;
      }
    },

    async list(r, namespace, o = {}) {
      const res = (await call(op('list', r, namespace), () =>
        api.listNamespacedCustomObject(
          {
            ...base(r, namespace),
            ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
            ...(o.fieldSelector ? { fieldSelector: o.fieldSelector } : {}),
          },
          requestOptions(),
        ),
      )) as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
      return { items: res.items ?? [], resourceVersion: res.metadata?.resourceVersion ?? '' };
    },

    async create(r, namespace, body) {
      return (await call(op('create', r, namespace, body.metadata.name), () =>
        api.createNamespacedCustomObject({ ...base(r, namespace), body, fieldManager }, requestOptions()),
      )) as KubeObject;
    },

    async patch(r, namespace, name, patch, type = 'merge') {
      const contentType = type === 'merge' ? PatchStrategy.MergePatch : PatchStrategy.JsonPatch;
      return (await call(op('patch', r, namespace, name), () =>
        api.patchNamespacedCustomObject(
          { ...base(r, namespace), name, body: patch, fieldManager },
          requestOptions(contentType),
        ),
      )) as KubeObject;
    },

    async update(r, namespace, name, mutate) {
      for (let attempt = 0; ; attempt++) {
        const current = await client.get(r, namespace, name);
        if (!current) return null;
        const wanted = mutate(structuredClone(current));
        if (!wanted) return current;
        const diff = mergePatchBetween(compared(current), compared(wanted));
        if (Object.keys(diff).length === 0) return current;
        const meta = (diff.metadata ?? {}) as Record<string, unknown>;
        const patch = {
          ...diff,
          metadata: { ...meta, resourceVersion: current.metadata.resourceVersion },
        };
        try {
          return await client.patch(r, namespace, name, patch, 'merge');
        } catch (e) {
          const stale = isKubeError(e) && e.code === 'CONFLICT' && e.reason !== 'AlreadyExists';
          if (!stale || attempt >= conflictRetries) throw e;
        }
      }
    },

    async apply(r, namespace, desired) {
      const name = desired.metadata.name;
      try {
        return { object: await client.create(r, namespace, desired), action: 'created' };
      } catch (e) {
        if (!(isKubeError(e) && e.code === 'CONFLICT' && e.reason === 'AlreadyExists')) throw e;
      }
      let changed = false;
      const object = await client.update(r, namespace, name, (current) => {
        const wanted = appliedOver(current, desired);
        changed = Object.keys(mergePatchBetween(compared(current), compared(wanted))).length > 0;
        return wanted;
      });
      if (!object)
        // Deleted between the create and the read: the next apply creates it.
        throw new KubeError({
          code: 'CONFLICT',
          operation: op('apply', r, namespace, name),
          message: 'the object was deleted while it was being updated',
          reason: 'Conflict',
        });
      return { object, action: changed ? 'updated' : 'unchanged' };
    },

    async delete(r, namespace, name) {
      try {
        await call(op('delete', r, namespace, name), () =>
          api.deleteNamespacedCustomObject(
            { ...base(r, namespace), name, propagationPolicy: 'Foreground' },
            requestOptions(),
          ),
        );
        return true;
      } catch (e) {
        if (isKubeError(e) && e.code === 'NOT_FOUND') return false;
        throw e;
      }
    },

    watch(r, namespace, o) {
      return startWatch(opts.kubeConfig, client, r, namespace, o);
    },
  };
  return client;
}
