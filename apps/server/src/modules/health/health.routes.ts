import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { envelope, healthSchema } from '@llmops/spec';
import { ok } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';
import { sendError } from '../../plugins/errors.ts';

export interface HealthOptions extends ModuleOptions {
  checkDatabase: () => Promise<void>;
}

export const healthRoutes: FastifyPluginAsyncZod<HealthOptions> = async (
  app,
  { version, checkDatabase, platform, tracking },
) => {
  const started = Date.now();
  const tags = ['health'];

  const database = async () => {
    const t0 = performance.now();
    try {
      await checkDatabase();
      return {
        status: 'ok' as const,
        latencyMs: Math.round((performance.now() - t0) * 10) / 10,
        error: null,
      };
    } catch (e) {
      return { status: 'down' as const, latencyMs: null, error: (e as Error).message };
    }
  };

  app.get(
    '/health',
    {
      config: { auth: false },
      schema: { tags, summary: 'Liveness and component health', response: { 200: envelope(healthSchema) } },
    },
    async () => {
      const [db, mlflow] = await Promise.all([database(), tracking ? tracking.health() : null]);
      return ok('Platform health', {
        status: db.status === 'ok' ? ('ok' as const) : ('degraded' as const),
        version,
        uptimeSeconds: Math.round((Date.now() - started) / 1000),
        checks: {
          database: db,
          gpu: {
            status: platform.gpu.state === 'present' ? ('ok' as const) : ('disabled' as const),
            latencyMs: null,
            error: platform.gpu.state === 'unknown' ? platform.gpu.reason : null,
          },
          // Tracking never makes the platform unhealthy: jobs run on and delivery catches up.
          mlflow: mlflow
            ? {
                status: mlflow.status,
                latencyMs: mlflow.latencyMs,
                error: mlflow.error,
                backlog: mlflow.backlog,
              }
            : { status: 'disabled' as const, latencyMs: null, error: null },
        },
      });
    },
  );

  app.get(
    '/health/live',
    {
      config: { auth: false },
      schema: { tags, summary: 'Liveness: the process answers; no dependency is checked' },
    },
    async () => ok('Alive', { uptimeSeconds: Math.round((Date.now() - started) / 1000) }),
  );

  app.get(
    '/health/ready',
    {
      config: { auth: false },
      schema: { tags, summary: 'Readiness: 200 when the database answers, 503 otherwise' },
    },
    async (_req, reply) => {
      const db = await database();
      if (db.status !== 'ok') return sendError(reply, 503, 'UNAVAILABLE', `Database not ready: ${db.error}`);
      return ok('Ready', { database: db });
    },
  );
};
