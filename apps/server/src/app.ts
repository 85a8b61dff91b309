import Fastify, { type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { PlatformContext, Services, TrackingService } from '@llmops/core';
import { errorEnvelopeSchema } from '@llmops/spec';
import { auditPlugin } from './plugins/audit.ts';
import { consolePlugin } from './plugins/console.ts';
import { authPlugin } from './plugins/auth.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { zodValidatorCompiler } from './plugins/validation.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { catalogRoutes } from './modules/catalog/catalog.routes.ts';
import { experimentsRoutes } from './modules/experiments/experiments.routes.ts';
import { governanceRoutes } from './modules/governance/governance.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { identityRoutes } from './modules/identity/identity.routes.ts';
import { integrationsRoutes, type IntegrationsInfo } from './modules/integrations/integrations.routes.ts';
import { registryRoutes } from './modules/registry/registry.routes.ts';
import { servingRoutes } from './modules/serving/serving.routes.ts';
import { trackingRoutes } from './modules/tracking/tracking.routes.ts';
import { trainingRoutes } from './modules/training/training.routes.ts';
import { API_PREFIX, type ModuleOptions } from './modules/types.ts';

export interface AppOptions {
  services: Services;
  platform: PlatformContext;
  checkDatabase: () => Promise<void>;
  version: string;
  bodyLimitBytes: number;
  uploadLimitBytes: number;
  logger?: FastifyServerOptions['logger'];
  /** Experiment tracking (run view, backfill, health); absent or null when disabled. */
  tracking?: TrackingService | null;
  /** Where the integrations are and the feature flags, for GET /integrations; absent: not reported. */
  integrations?: IntegrationsInfo | null;
  /** Folder of the built web console (index.html + assets) served at `/`; absent: `/` leads to the API docs. */
  consoleDir?: string | null;
}

/** Composes the HTTP app: external plugins, then the platform's plugins, then the routes. Never listens. */
export async function buildApp(opts: AppOptions) {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(multipart, { limits: { fileSize: opts.uploadLimitBytes, files: 1, fields: 10 } });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'LLM Ops Platform API',
        version: opts.version,
        description:
          'Every response is the envelope {status, message, data}. Authenticate with "Authorization: Bearer <token>"; choose the project with "X-Project: <slug>".',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: `${API_PREFIX}/docs`, uiConfig: { docExpansion: 'list' } });

  // Every documented route also documents (and serialises through) the error envelope.
  const errorResponses = Object.fromEntries(
    [400, 401, 403, 404, 409, 413, 415, 422, 500].map((code) => [code, errorEnvelopeSchema]),
  );
  app.addHook('onRoute', (route) => {
    if (route.schema && !route.schema.hide)
      route.schema.response = { ...errorResponses, ...(route.schema.response as object | undefined) };
  });

  await app.register(errorsPlugin);
  await app.register(authPlugin, { services: opts.services });
  await app.register(auditPlugin, { services: opts.services });

  const moduleOpts: ModuleOptions = {
    services: opts.services,
    platform: opts.platform,
    uploadLimitBytes: opts.uploadLimitBytes,
    version: opts.version,
    tracking: opts.tracking ?? null,
  };
  await app.register(
    async (api) => {
      await api.register(healthRoutes, { ...moduleOpts, checkDatabase: opts.checkDatabase });
      await api.register(identityRoutes, moduleOpts);
      await api.register(catalogRoutes, moduleOpts);
      await api.register(trainingRoutes, moduleOpts);
      await api.register(servingRoutes, moduleOpts);
      await api.register(auditRoutes, moduleOpts);
      await api.register(trackingRoutes, moduleOpts);
      await api.register(registryRoutes, moduleOpts);
      await api.register(experimentsRoutes, moduleOpts);
      await api.register(governanceRoutes, moduleOpts);
      await api.register(integrationsRoutes, { ...moduleOpts, integrations: opts.integrations ?? null });
      api.get('/openapi.json', { config: { auth: false }, schema: { hide: true } }, async () =>
        app.swagger(),
      );
    },
    { prefix: API_PREFIX },
  );
  if (opts.consoleDir) {
    await app.register(consolePlugin, { dir: opts.consoleDir });
  } else {
    app.get('/', { config: { auth: false }, schema: { hide: true } }, async (_req, reply) =>
      reply.redirect(`${API_PREFIX}/docs`),
    );
  }
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
