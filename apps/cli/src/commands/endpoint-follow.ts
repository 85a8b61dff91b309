import { isApiError, type EndpointEvent } from '@llmops/client';
import { eventLine } from './endpoint-render.ts';
import { EXIT_INTERRUPTED, sleep } from './follow.ts';

/** How a rollout ends, as its last event says, and the exit code of `rollout --wait` for it. */
export const ROLLOUT_OUTCOMES: Readonly<Record<string, { code: number; text: string }>> = {
  'rollout.promoted': { code: 0, text: 'promoted: the new revision serves all traffic' },
  'rollout.rolled_back': { code: 1, text: 'rolled back: the previous revision serves' },
  'rollout.failed': { code: 1, text: 'failed: the previous revision serves' },
};

/** A lost connection is retried this many times in a row (one poll interval apart) before giving up. */
const MAX_UNREACHABLE_POLLS = 30;

export interface EventFollowDeps {
  events(afterSeq: number): Promise<EndpointEvent[]>;
  out(text: string): void;
  signal: AbortSignal;
  intervalMs?: number;
}

/**
 * Prints the endpoint's events recorded after `afterSeq` as they come (polling), until `until` returns an
 * exit code for one of them, or Ctrl-C (130). A platform that cannot be reached for a while is waited for.
 */
export async function followEvents(
  d: EventFollowDeps,
  afterSeq: number,
  until: (e: EndpointEvent) => number | undefined,
): Promise<number> {
  let seq = afterSeq;
  let unreachable = 0;
  for (;;) {
    let batch: EndpointEvent[] = [];
    try {
      batch = await d.events(seq);
      unreachable = 0;
    } catch (e) {
      if (d.signal.aborted) return EXIT_INTERRUPTED;
      if (!isApiError(e) || e.status !== 0 || ++unreachable > MAX_UNREACHABLE_POLLS) throw e;
    }
    for (const e of batch) {
      if (e.seq <= seq) continue;
      seq = e.seq;
      d.out(eventLine(e));
      const code = until(e);
      if (code !== undefined) return code;
    }
    if (d.signal.aborted) return EXIT_INTERRUPTED;
    await sleep(d.intervalMs ?? 1000, d.signal);
    if (d.signal.aborted) return EXIT_INTERRUPTED;
  }
}

/** The exit code once the rollout of `revisionId` has ended: 0 promoted, 1 rolled back or failed. */
export function rolloutEnd(revisionId: string) {
  return (e: EndpointEvent): number | undefined => {
    if (e.type === 'endpoint.deleted') return 1;
    if (e.revisionId !== revisionId) return undefined;
    return ROLLOUT_OUTCOMES[e.type]?.code;
  };
}
