import type { Db } from '@llmops/db';
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

export function createAuditService(db: Db) {
  const { repos } = db;
  return {
    record(entry: AuditRecord) {
      return repos.audit.append(entry);
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
