import { DbError } from '../errors.ts';
import { isUuid, toNumber } from '../rows.ts';
import type { Sql } from '../sql.ts';

export type IdempotentResourceType = 'training_job' | 'serving_endpoint';

export interface IdempotentRunInput<T> {
  projectId: string;
  key: string;
  /** Hash of the canonical request body; the same key with another hash is a mismatch. */
  requestHash: string;
  resourceType: IdempotentResourceType;
  /** How long the key is remembered. */
  ttlHours: number;
  /** Creates the resource with `tx` (never the outer handle), so it commits or rolls back with the key. */
  create: (tx: Sql) => Promise<{ id: string; value: T }>;
  /** Loads the resource created by an earlier call with the same key; runs after the transaction. */
  load: (id: string) => Promise<T>;
}

export type IdempotentOutcome<T> =
  | { outcome: 'created'; value: T }
  | { outcome: 'replayed'; value: T }
  | { outcome: 'mismatch'; existingResourceId: string | null };

interface KeyRecord {
  request_hash: string;
  resource_type: IdempotentResourceType;
  resource_id: string | null;
  expired: boolean;
}

type Decision<T> =
  | { kind: 'created'; value: T }
  | { kind: 'replayed'; resourceId: string }
  | { kind: 'mismatch'; resourceId: string | null };

// One attempt to insert, one after deleting an expired key, one after a concurrent purge.
const MAX_ATTEMPTS = 3;

function assertRunInput(input: IdempotentRunInput<unknown>): void {
  if (input.key.length === 0 || input.key.length > 255) {
    throw new RangeError(`idempotency key must have 1 to 255 characters, got ${input.key.length}`);
  }
  if (!Number.isFinite(input.ttlHours) || input.ttlHours <= 0) {
    throw new RangeError(`ttlHours must be a positive number, got ${String(input.ttlHours)}`);
  }
  if (!isUuid(input.projectId)) throw new RangeError(`projectId must be a UUID, got "${input.projectId}"`);
}

/**
 * Claims the key with INSERT … ON CONFLICT DO NOTHING. On PostgreSQL a second inserter of the same
 * key blocks until the first transaction ends: if it commits, the second sees the row and replays;
 * if it rolls back (create threw), the second one's insert goes through and it creates instead.
 */
async function decide<T>(tx: Sql, input: IdempotentRunInput<T>): Promise<Decision<T>> {
  const keyParams = [input.projectId, input.key];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const claimed = await tx.query(
      `INSERT INTO idempotency_keys (project_id, key, request_hash, resource_type, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision))
       ON CONFLICT (project_id, key) DO NOTHING
       RETURNING key`,
      [...keyParams, input.requestHash, input.resourceType, input.ttlHours * 3600],
    );
    if (claimed.length > 0) {
      const created = await input.create(tx);
      await tx.query('UPDATE idempotency_keys SET resource_id = $3 WHERE project_id = $1 AND key = $2', [
        ...keyParams,
        created.id,
      ]);
      return { kind: 'created', value: created.value };
    }
    const [existing] = await tx.query<KeyRecord>(
      `SELECT request_hash, resource_type, resource_id, expires_at < now() AS expired
         FROM idempotency_keys WHERE project_id = $1 AND key = $2`,
      keyParams,
    );
    if (!existing) continue;
    if (existing.expired) {
      await tx.query(
        'DELETE FROM idempotency_keys WHERE project_id = $1 AND key = $2 AND expires_at < now()',
        keyParams,
      );
      continue;
    }
    const same = existing.request_hash === input.requestHash && existing.resource_type === input.resourceType;
    if (same && existing.resource_id !== null) return { kind: 'replayed', resourceId: existing.resource_id };
    return { kind: 'mismatch', resourceId: existing.resource_id };
  }
  throw new DbError(`idempotency key "${input.key}" kept changing under concurrent use; retry the request`, {
    code: 'idempotency_contention',
  });
}

export function createIdempotencyRepository(sql: Sql) {
  return {
    async run<T>(input: IdempotentRunInput<T>): Promise<IdempotentOutcome<T>> {
      assertRunInput(input as IdempotentRunInput<unknown>);
      const decision = await sql.transaction((tx) => decide(tx, input));
      switch (decision.kind) {
        case 'created':
          return { outcome: 'created', value: decision.value };
        case 'replayed':
          return { outcome: 'replayed', value: await input.load(decision.resourceId) };
        case 'mismatch':
          return { outcome: 'mismatch', existingResourceId: decision.resourceId };
      }
    },

    /** Deletes expired keys; returns how many. */
    async purgeExpired(): Promise<number> {
      const [row] = await sql.query<{ n: unknown }>(
        'WITH gone AS (DELETE FROM idempotency_keys WHERE expires_at < now() RETURNING 1) SELECT count(*) AS n FROM gone',
      );
      return toNumber(row?.n ?? 0);
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
