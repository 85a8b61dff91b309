import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditEntrySchema, auditVerifySchema, envelope, page, paginationQuerySchema } from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

export const auditRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, { services }) => {
  const tags = ['audit'];
  app.get(
    '/audit',
    {
      schema: {
        tags,
        summary: "The current project's audit trail (admins)",
        querystring: paginationQuerySchema.extend({ action: z.string().max(100).optional() }),
        response: { 200: envelope(page(auditEntrySchema)) },
      },
    },
    async (req) => {
      const r = await services.audit.list(actorOf(req), req.query);
      const items = r.items.map((a) => ({
        seq: a.seq,
        at: a.at,
        actor: a.actor,
        projectId: a.projectId,
        action: a.action,
        targetType: a.targetType,
        targetId: a.targetId,
        result: a.result,
        statusCode: a.statusCode,
        hash: a.hash,
      }));
      return ok('Audit trail', { items, total: r.total, limit: req.query.limit, offset: req.query.offset });
    },
  );
  app.get(
    '/audit/verify',
    {
      schema: {
        tags,
        summary: 'Recompute the hash chain and report the first broken link',
        response: { 200: envelope(auditVerifySchema) },
      },
    },
    async (req) => {
      const r = await services.audit.verify(actorOf(req));
      return ok(
        r.ok
          ? `Audit chain intact (${r.checked} rows)`
          : `Audit chain broken at seq ${r.firstBrokenSeq}: ${r.reason}`,
        r,
      );
    },
  );
};
