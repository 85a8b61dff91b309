import { createHash } from 'node:crypto';
import { canonicalJson, type Db, type IdempotentResourceType } from '@llmops/db';
import { createError } from './errors.ts';

/**
 * Creates a resource once per (project, Idempotency-Key): the same key and body replay the original,
 * another body under the same key is IDEMPOTENCY_KEY_REUSED. The body is hashed in canonical JSON without
 * its own `idempotencyKey`, so field order and where the key was sent do not matter. Without a key the
 * resource is simply created in one transaction.
 */
export async function createIdempotent<T>(
  db: Db,
  opts: {
    projectId: string;
    key: string | undefined;
    body: { idempotencyKey?: string | undefined };
    resourceType: IdempotentResourceType;
    ttlHours: number;
    create: (tx: Db['sql']) => Promise<{ id: string; value: T }>;
    load: (id: string) => Promise<T>;
    /** Appended to the 409 message, e.g. what to do instead. */
    mismatchHint?: string;
  },
): Promise<{ value: T; replayed: boolean }> {
  if (!opts.key) return { value: (await db.sql.transaction(opts.create)).value, replayed: false };
  const { idempotencyKey: _k, ...rest } = opts.body;
  const result = await db.repos.idempotency.run<T>({
    projectId: opts.projectId,
    key: opts.key,
    requestHash: createHash('sha256').update(canonicalJson(rest)).digest('hex'),
    resourceType: opts.resourceType,
    ttlHours: opts.ttlHours,
    create: opts.create,
    load: opts.load,
  });
  if (result.outcome === 'mismatch')
    throw createError(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key '${opts.key}' was already used in this project with a different request body${opts.mismatchHint ?? ''}`,
      { details: { existingResourceId: result.existingResourceId } },
    );
  return { value: result.value, replayed: result.outcome === 'replayed' };
}
