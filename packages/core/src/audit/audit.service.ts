import type { AuditRow, Db } from '@llmops/db';
import { createError } from '../errors.ts';
import { requireRole, type Actor } from '../identity/actor.ts';

export interface AuditRecord {
  actor: string;
  projectId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  requestHash: string | null;
  result: 'success' | 'error';
  statusCode: number;
  detail?: Record<string, unknown>;
}

/** Most entries one transaction appends; bounds the time one flush holds the chain lock. */
export const AUDIT_BATCH_LIMIT = 256;

interface Pending {
  entry: AuditRecord;
  resolve: (row: AuditRow) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for the audit chain: entries that arrive while a flush is running are appended together
 * in the next transaction. The chain is serialised by a database lock, so one commit per request would
 * cap every mutating route at the disk's fsync rate; batching keeps the chain strict without that cap.
 * Each caller still waits until its own row is committed.
 */
function createAuditWriter(appendMany: (entries: AuditRecord[]) => Promise<AuditRow[]>) {
  const queue: Pending[] = [];
  let flushing = false;
  const flush = async () => {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, AUDIT_BATCH_LIMIT);
      try {
        const rows = await appendMany(batch.map((p) => p.entry));
        batch.forEach((p, i) => p.resolve(rows[i]!));
      } catch (e) {
        batch.forEach((p) => p.reject(e));
      }
    }
    flushing = false;
  };
  return (entry: AuditRecord) =>
    new Promise<AuditRow>((resolve, reject) => {
      queue.push({ entry, resolve, reject });
      if (!flushing) void flush();
    });
}

export function createAuditService(db: Db) {
  const { repos } = db;
  const write = createAuditWriter((entries) => repos.audit.appendMany(entries));
  return {
    record(entry: AuditRecord): Promise<AuditRow> {
      return write(entry);
    },
    async list(actor: Actor, q: { action?: string | undefined; limit: number; offset: number }) {
      const project = requireRole(actor, 'admin');
      return repos.audit.list({ projectId: project.id, action: q.action, limit: q.limit, offset: q.offset });
    },
    /** The whole chain spans projects, so only organisation administrators may verify it. */
    async verify(actor: Actor) {
      if (!actor.orgAdmin)
        throw createError('FORBIDDEN', 'Only organisation administrators can verify the audit chain');
      return repos.audit.verify();
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
