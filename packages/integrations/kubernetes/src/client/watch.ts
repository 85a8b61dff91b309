import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { KubeClient } from './client.ts';
import type { KubeError } from './kube-error.ts';
import { isKubeError, kubeErrorFromStatus, toKubeError } from './kube-error.ts';
import { describeResource, type CustomResource, type KubeObject } from './resources.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Called for every change, in order. After a relist it gets the differences the relist found. */
  onEvent(event: WatchEvent): void;
  /** Told about every drop or failed (re)connection; the watch carries on by itself. */
  onError?(error: KubeError): void;
  /** Wait before reconnecting after a failure, doubling from min to max (default 100 ms .. 5 s). */
  reconnectDelayMs?: { min: number; max: number };
}

export interface KubeWatch {
  /** Resolves once the first list has been delivered as ADDED events. */
  readonly synced: Promise<void>;
  /** The resourceVersion the next (re)connection resumes from. */
  resourceVersion(): string | null;
  /** Number of lists so far: 1 after the start, one more for each 410 Gone. */
  lists(): number;
  stop(): void;
}

/**
 * List, then watch from the list's resourceVersion; when the connection drops, reconnect from the last
 * resourceVersion seen (bookmarks included); when the server says that version is gone (410), list
 * again and report what changed in between as ADDED / MODIFIED / DELETED.
 */
export function startWatch(
  kubeConfig: KubeConfig,
  client: KubeClient,
  r: CustomResource,
  namespace: string,
  opts: WatchOptions,
): KubeWatch {
  const path = `/apis/${r.group}/${r.version}/namespaces/${namespace}/${r.plural}`;
  const operation = `watch ${describeResource(r)} ${namespace}`;
  const delays = opts.reconnectDelayMs ?? { min: 100, max: 5_000 };
  const known = new Map<string, KubeObject>();
  let rv: string | null = null;
  let stopped = false;
  let listCount = 0;
  let abort: AbortController | null = null;
  let wake: (() => void) | null = null;
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  const selectors = {
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
  };

  const emit = (type: WatchEventType, object: KubeObject) => {
    if (type === 'DELETED') known.delete(object.metadata.name);
    else known.set(object.metadata.name, object);
    opts.onEvent({ type, object });
  };

  async function relist() {
    const { items, resourceVersion } = await client.list(r, namespace, selectors);
    listCount++;
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(item.metadata.name);
      const before = known.get(item.metadata.name);
      if (!before) emit('ADDED', item);
      else if (before.metadata.resourceVersion !== item.metadata.resourceVersion) emit('MODIFIED', item);
    }
    for (const [name, object] of [...known]) if (!seen.has(name)) emit('DELETED', object);
    rv = resourceVersion;
    markSynced();
  }

  /** One watch connection; resolves with why it ended (null: the server closed it normally). */
  function watchOnce(): Promise<KubeError | null> {
    return new Promise((resolve) => {
      let expired: KubeError | null = null;
      const onLine = (type: string, object: unknown) => {
        if (type === 'ERROR') {
          const status = object as { code?: number };
          expired = kubeErrorFromStatus(operation, status.code ?? 500, object);
          abort?.abort();
          return;
        }
        const o = object as KubeObject;
        if (o?.metadata?.resourceVersion) rv = o.metadata.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') emit(type, o);
      };
      const params = { ...selectors, resourceVersion: rv ?? undefined, allowWatchBookmarks: true };
      new Watch(kubeConfig)
        .watch(path, params, onLine, (err: unknown) => {
          if (expired) resolve(expired);
          else if (err && !stopped && !(err as { name?: string }).name?.includes('Abort'))
            resolve(toKubeError(operation, err));
          else resolve(null);
        })
        .then((controller) => {
          abort = controller;
          if (stopped) controller.abort();
        })
        .catch((e: unknown) => resolve(toKubeError(operation, e)));
    });
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  async function run() {
    let delay = delays.min;
    while (!stopped) {
      let failure: KubeError | null = null;
      try {
        if (rv === null) await relist();
        if (stopped) break;
        failure = await watchOnce();
      } catch (e) {
        failure = isKubeError(e) ? e : toKubeError(operation, e);
      }
      if (stopped) break;
      if (failure?.code === 'EXPIRED') {
        rv = null; // relist at once: the events in between are gone
        opts.onError?.(failure);
        continue;
      }
      if (failure) {
        opts.onError?.(failure);
        await sleep(delay);
        delay = Math.min(delay * 2, delays.max);
      } else {
        delay = delays.min;
        await sleep(delays.min); // a server that closes at once must not make this spin
      }
    }
  }

  void run();
  return {
    synced,
    resourceVersion: () => rv,
    lists: () => listCount,
    stop() {
      stopped = true;
      abort?.abort();
      wake?.();
    },
  };
}
