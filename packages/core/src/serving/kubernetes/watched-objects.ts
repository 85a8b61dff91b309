import type {
  CustomResource,
  KubeClient,
  KubeError,
  KubeObject,
  KubeWatch,
} from '@llmops/integrations-kubernetes';

/**
 * The platform's view of the objects it manages in one namespace, kept current by a watch (started on
 * first use) and by the reads and writes the driver makes itself. Waiters are woken by every change to
 * the object they wait for, so readiness follows watch events; when the watch is down they poll.
 */
export class WatchedObjects {
  private readonly objects = new Map<string, KubeObject>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private watch: KubeWatch | null = null;
  private synced = false;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly resource: CustomResource,
    private readonly namespace: string,
    private readonly opts: {
      labelSelector: string;
      enabled: boolean;
      onError?: (e: KubeError) => void;
    },
  ) {}

  /** Starts the watch (once). */
  ensureWatching(): void {
    if (!this.opts.enabled || this.watch || this.stopped) return;
    this.watch = this.client.watch(this.resource, this.namespace, {
      labelSelector: this.opts.labelSelector,
      onEvent: (e) => {
        if (e.type === 'DELETED') this.forget(e.object.metadata.name);
        else this.remember(e.object);
      },
      onError: (e) => {
        this.opts.onError?.(e);
      },
    });
    void this.watch.synced.then(() => (this.synced = true));
  }

  /** True while the cache can stand in for a read: the watch has delivered its first list. */
  fresh(): boolean {
    return this.synced;
  }

  /** The cached object; undefined when it is not known. */
  cached(name: string): KubeObject | undefined {
    return this.objects.get(name);
  }

  all(): KubeObject[] {
    return [...this.objects.values()];
  }

  /** Reads the object from the API server and records what it found. */
  async read(name: string): Promise<KubeObject | null> {
    const o = await this.client.get(this.resource, this.namespace, name);
    if (o) this.remember(o);
    else this.forget(name);
    return o;
  }

  /** The cached object when the watch is synced, else a read. */
  async current(name: string): Promise<KubeObject | null> {
    this.ensureWatching();
    if (this.synced) return this.objects.get(name) ?? null;
    return this.read(name);
  }

  remember(o: KubeObject): void {
    const before = this.objects.get(o.metadata.name);
    // An older version (a read racing a watch event) never replaces a newer one.
    if (before && Number(before.metadata.resourceVersion) > Number(o.metadata.resourceVersion)) return;
    this.objects.set(o.metadata.name, o);
    this.wake(o.metadata.name);
  }

  forget(name: string): void {
    this.objects.delete(name);
    this.wake(name);
  }

  /** Resolves at the next change of `name`, or after `ms`, or when `signal` aborts. */
  changed(name: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(name) ?? new Set();
      this.waiters.set(name, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  private wake(name: string): void {
    for (const w of [...(this.waiters.get(name) ?? [])]) w();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    this.watch = null;
    this.synced = false;
    for (const set of this.waiters.values()) for (const w of [...set]) w();
  }
}
