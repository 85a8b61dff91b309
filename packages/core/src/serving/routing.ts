import { createHash } from 'node:crypto';

/** One revision as the router sees it. */
export interface RoutedRevision {
  id: string;
  seq: number;
  /** Share of live traffic in percent. */
  traffic: number;
  /** Receives a copy of each request; its answer is discarded. */
  shadow: boolean;
  /** 'ab': callers are split by a hash of who they are rather than per request. */
  mode: string;
}

export interface RoutingTable {
  endpointId: string;
  revisions: RoutedRevision[];
}

export interface RouteChoice {
  /** Revision whose answer goes back to the caller. */
  revisionId: string;
  /** Revision that gets a copy of the request, when one is shadowing. */
  shadowId: string | null;
}

/** A stable bucket 0…99 for a caller: the same caller always lands in the same bucket. */
export function callerBucket(endpointId: string, caller: string): number {
  const h = createHash('sha256').update(endpointId).update('\0').update(caller).digest();
  return h.readUInt32BE(0) % 100;
}

/**
 * Picks the revision for one request. Revisions are laid out in seq order over 0…99 by their share; the
 * point on that line is a fresh random number per request, or — when an A/B revision takes part and the
 * caller is known — the caller's bucket, so each caller keeps seeing the same revision.
 * Returns null when no revision has traffic.
 */
export function pickRevision(
  table: RoutingTable,
  caller: string | null,
  random: () => number = Math.random,
): RouteChoice | null {
  const live = table.revisions.filter((r) => r.traffic > 0).sort((a, b) => a.seq - b.seq);
  if (!live.length) return null;
  const shadow = table.revisions.find((r) => r.shadow && r.traffic === 0) ?? null;
  const total = live.reduce((s, r) => s + r.traffic, 0);
  const sticky = caller !== null && live.some((r) => r.mode === 'ab');
  const point = sticky
    ? (callerBucket(table.endpointId, caller) / 100) * total
    : Math.min(random(), 0.999_999_999) * total;
  let acc = 0;
  for (const r of live) {
    acc += r.traffic;
    if (point < acc) return { revisionId: r.id, shadowId: shadow?.id ?? null };
  }
  return { revisionId: live.at(-1)!.id, shadowId: shadow?.id ?? null };
}
