import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Services } from '@llmops/core';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function targetIdOf(params: unknown, payload: unknown): string | null {
  const p = params as Record<string, unknown> | undefined;
  for (const key of ['jobId', 'endpointId', 'id', 'tokenId', 'userId'])
    if (typeof p?.[key] === 'string') return p[key] as string;
  if (typeof payload !== 'string') return null;
  try {
    const data = (JSON.parse(payload) as { data?: { id?: unknown } }).data;
    return typeof data?.id === 'string' ? data.id : null;
  } catch {
    return null;
  }
}

/**
 * Appends one audit row per mutating request, before the response leaves: a client never sees the effect
 * of a change whose audit record is missing. Dry runs (validate) are mutating verbs but change nothing,
 * so routes opt in through `config.audit`.
 */
export const auditPlugin = fp(async (app: FastifyInstance, opts: { services: Services }) => {
  app.addHook('onSend', async (request, reply, payload) => {
    const audit = request.routeOptions.config.audit;
    if (!audit || !MUTATING.has(request.method)) return payload;
    const body = request.body;
    const requestHash =
      body && typeof body === 'object' && !request.isMultipart()
        ? createHash('sha256').update(JSON.stringify(body)).digest('hex')
        : null;
    const ok = reply.statusCode < 400;
    await opts.services.audit.record({
      actor: request.actor ? `user:${request.actor.userId}` : 'anonymous',
      projectId: request.actor?.project?.id ?? null,
      action: audit.action,
      targetType: audit.targetType,
      targetId: ok ? targetIdOf(request.params, payload) : null,
      requestHash,
      result: ok ? 'success' : 'error',
      statusCode: reply.statusCode,
      detail: {
        method: request.method,
        route: request.routeOptions.url ?? request.url,
        requestId: request.id,
      },
    });
    return payload;
  });
});
