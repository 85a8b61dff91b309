import type { Db } from '@llmops/db';
import type { RoutingTable } from './routing.ts';

/**
 * The routing tables of endpoints, read from the database and kept for `ttlMs`: the proxy reads them on
 * every request, the rollout activities change them and invalidate the entry (same process), and other
 * processes see a change within the TTL.
 */
export interface ServingRouter {
  table(endpointId: string): Promise<RoutingTable>;
  invalidate(endpointId: string): void;
}

export function createServingRouter(db: Db, opts: { ttlMs?: number } = {}): ServingRouter {
  const ttl = opts.ttlMs ?? 1000;
  const cache = new Map<string, { at: number; table: Promise<RoutingTable> }>();
  return {
    table(endpointId) {
      const hit = cache.get(endpointId);
      if (hit && Date.now() - hit.at < ttl) return hit.table;
      const table = db.repos.revisions.listRouted(endpointId).then((rows) => ({
        endpointId,
        revisions: rows.map((r) => ({
          id: r.id,
          seq: r.seq,
          traffic: r.traffic,
          shadow: r.shadow,
          mode: r.mode,
        })),
      }));
      cache.set(endpointId, { at: Date.now(), table });
      table.catch(() => cache.delete(endpointId));
      return table;
    },
    invalidate(endpointId) {
      cache.delete(endpointId);
    },
  };
}
