import type { Db } from '@llmops/db';
import type { RoutingTable } from './routing.ts';

/**
 * The routing tables of endpoints, read from the database once and kept: the proxy reads them on every
 * request. Any change of traffic or shadow flags, by any process sharing the database, drops the entry
 * through the database's change notifications (decision 0019); `ttlMs` bounds how long an entry lives
 * should a notification be lost.
 */
export interface ServingRouter {
  table(endpointId: string): Promise<RoutingTable>;
  invalidate(endpointId: string): void;
}

export const ROUTING_TABLE_TTL_MS = 30_000;

export function createServingRouter(db: Db, opts: { ttlMs?: number } = {}): ServingRouter {
  const ttl = opts.ttlMs ?? ROUTING_TABLE_TTL_MS;
  const cache = new Map<string, { at: number; table: Promise<RoutingTable> }>();
  db.changes.subscribe('routing', (endpointId) => {
    if (endpointId === null) cache.clear();
    else cache.delete(endpointId);
  });
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
