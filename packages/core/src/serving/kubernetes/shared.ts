import { KubeError, type GpuTypeInfo, type KubeClient } from '@llmops/integrations-kubernetes';
import type { DeploymentSpec } from '@llmops/spec';
import type { RevisionStatus } from '../backend.ts';
import type { WatchedObjects } from './watched-objects.ts';

/** What the KServe and Ray drivers share: the client, their namespace and the watched objects. */
export interface DriverContext {
  client: KubeClient;
  namespace: string;
  objects: WatchedObjects;
  gpuTypeFor(spec: DeploymentSpec): GpuTypeInfo | null;
  /** How often a waiter re-reads when no watch event arrives. */
  pollIntervalMs: number;
}

/**
 * Resolves with the revision's status once it is no longer deploying. Waits for the next watch event of
 * its object, re-reading every pollIntervalMs while the watch has not synced (the fallback when watches
 * fail); throws a TIMEOUT KubeError after timeoutMs.
 */
export async function waitForRevision(
  ctx: DriverContext,
  revisionId: string,
  read: { status(): Promise<RevisionStatus>; objectName(): Promise<string | null> },
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<RevisionStatus> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const s = await read.status();
    if (s.state !== 'deploying') return s;
    if (opts.signal?.aborted) throw new Error(`waiting for revision ${revisionId} was aborted`);
    const left = deadline - Date.now();
    if (left <= 0)
      throw new KubeError({
        code: 'TIMEOUT',
        operation: `wait for revision ${revisionId}`,
        message: `not ready after ${opts.timeoutMs} ms${s.message ? `: ${s.message}` : ''}`,
      });
    const name = await read.objectName();
    await ctx.objects.changed(name ?? '', Math.min(left, ctx.pollIntervalMs), opts.signal);
    if (name && !ctx.objects.fresh()) await ctx.objects.read(name);
  }
}
