import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { envelope, platformPoliciesSchema } from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

export const governanceRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, { platform }) => {
  app.get(
    '/governance/policies',
    {
      schema: {
        tags: ['governance'],
        summary: 'The policy limits the platform enforces (config/platform.yaml, policies), for every member',
        response: { 200: envelope(platformPoliciesSchema) },
      },
    },
    async (req) => {
      actorOf(req);
      const p = platform.config.policies;
      return ok('Configured policies', {
        environment: platform.config.environment,
        policies: {
          max_gpus_per_job: p.max_gpus_per_job,
          max_nodes_per_job: p.max_nodes_per_job,
          default_priority: p.default_priority,
          idempotency_ttl_hours: p.idempotency_ttl_hours,
          fit_check: { enabled: p.fit_check.enabled, headroom: p.fit_check.headroom },
          request_body_limit_bytes: p.request_body_limit_bytes,
          upload_limit_bytes: p.upload_limit_bytes,
        },
      });
    },
  );
};
