import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createError, type Actor, type Services } from '@llmops/core';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** false = the route is public (health, OpenAPI). */
    auth?: boolean;
    /** Names the audited action of a mutating route. */
    audit?: { action: string; targetType: string };
  }
}

/** The authenticated actor of a protected route (authentication ran in onRequest). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw createError('UNAUTHORIZED', 'Authentication required');
  return request.actor;
}

const BEARER = /^Bearer\s+(\S+)$/i;

export const authPlugin = fp(async (app: FastifyInstance, opts: { services: Services }) => {
  app.decorateRequest('actor', null);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.auth === false || !request.routeOptions.url) return;
    const header = request.headers.authorization;
    const match = header ? BEARER.exec(header) : null;
    if (header && !match)
      throw createError('UNAUTHORIZED', 'Malformed Authorization header: expected "Bearer <token>"');
    const project = request.headers['x-project'];
    if (Array.isArray(project)) throw createError('BAD_REQUEST', 'Send one X-Project header');
    request.actor = await opts.services.identity.authenticate(match?.[1], project?.trim() || undefined);
  });
});
