import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { checkIntegrations, type IntegrationTargets } from '@llmops/core';
import { envelope, integrationsSchema } from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

/** What the process was configured with: where the components are, and the feature flags (no secrets). */
export interface IntegrationsInfo {
  targets: IntegrationTargets;
  features: { key: string; enabled: boolean; system: string }[];
}

const UNKNOWN = {
  kind: 'not_checked',
  reason: 'this server process was started without integration settings',
} as const;

export const integrationsRoutes: FastifyPluginAsyncZod<
  ModuleOptions & { integrations: IntegrationsInfo | null }
> = async (app, { integrations }) => {
  app.get(
    '/integrations',
    {
      schema: {
        tags: ['health'],
        summary:
          'Reachability of Temporal, the Kubernetes API, the Hugging Face Hub and the DVC remote, and the feature flags',
        response: { 200: envelope(integrationsSchema) },
      },
    },
    async (req) => {
      actorOf(req);
      const targets = integrations?.targets ?? {
        temporal: UNKNOWN,
        kubernetes: UNKNOWN,
        huggingface_hub: UNKNOWN,
        dvc: UNKNOWN,
      };
      return ok('Integrations', {
        components: await checkIntegrations(targets),
        features: integrations?.features ?? [],
      });
    },
  );
};
