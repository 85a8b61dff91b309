import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  createEndpointSchema,
  deploymentSpecSchema,
  endpointSchema,
  envelope,
  page,
  paginationQuerySchema,
  revalidateResultSchema,
  validationResultSchema,
} from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok, toEndpoint } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

const endpointParams = z.object({ endpointId: z.string().min(1).max(200) });
const deploymentViewSchema = z.object({
  endpointId: z.string(),
  deploymentSpec: deploymentSpecSchema,
  image: z.string(),
  imageVariant: z.enum(['gpu', 'cpu']),
  imageReason: z.string(),
  converted: z
    .record(z.string(), z.unknown())
    .describe('Native forms per serving backend (KServe, Ray Serve), filled when a backend applies the spec'),
});

export const servingRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, { services }) => {
  const { serving, compliance } = services;
  const tags = ['serving'];

  app.post(
    '/serving/endpoints',
    {
      schema: {
        tags,
        summary: 'Create a serving endpoint from a DeploymentSpec',
        headers: z.object({ 'idempotency-key': z.string().trim().min(1).max(200).optional() }),
        body: createEndpointSchema,
        response: { 200: envelope(endpointSchema), 201: envelope(endpointSchema) },
      },
      config: { audit: { action: 'serving.endpoint.create', targetType: 'serving_endpoint' } },
    },
    async (req, reply) => {
      const { endpoint, replayed } = await serving.create(
        actorOf(req),
        req.body,
        req.headers['idempotency-key'],
      );
      return reply
        .status(replayed ? 200 : 201)
        .send(
          ok(
            replayed ? 'Endpoint already created with this Idempotency-Key' : 'Endpoint created',
            toEndpoint(endpoint),
          ),
        );
    },
  );
  app.post(
    '/serving/endpoints/validate',
    {
      schema: {
        tags,
        summary: 'Dry run of a DeploymentSpec; nothing is stored',
        body: createEndpointSchema,
        response: { 200: envelope(validationResultSchema) },
      },
    },
    async (req) => {
      const r = await serving.validate(actorOf(req), req.body);
      return ok(r.valid ? 'Valid' : `Invalid: ${r.violations.length} rule violation(s)`, r);
    },
  );
  app.post(
    '/serving/endpoints/revalidate',
    {
      schema: {
        tags,
        summary: 'Re-check stored endpoints against the current rules (FR-031)',
        querystring: z.object({ endpointId: z.string().optional(), allProjects: z.stringbool().optional() }),
        response: { 200: envelope(revalidateResultSchema) },
      },
      config: { audit: { action: 'serving.endpoint.revalidate', targetType: 'serving_endpoint' } },
    },
    async (req) => {
      const r = await compliance.revalidateEndpoints(actorOf(req), req.query);
      return ok(`${r.checked} endpoint(s) checked, ${r.nonCompliant} non-compliant`, r);
    },
  );
  app.get(
    '/serving/endpoints',
    {
      schema: {
        tags,
        summary: 'List serving endpoints',
        querystring: paginationQuerySchema,
        response: { 200: envelope(page(endpointSchema)) },
      },
    },
    async (req) => {
      const r = await serving.list(actorOf(req), req.query);
      return ok('Serving endpoints', {
        items: r.items.map(toEndpoint),
        total: r.total,
        limit: req.query.limit,
        offset: req.query.offset,
      });
    },
  );
  app.get(
    '/serving/endpoints/:endpointId',
    {
      schema: {
        tags,
        summary: 'Get a serving endpoint',
        params: endpointParams,
        response: { 200: envelope(endpointSchema) },
      },
    },
    async (req) => ok('Serving endpoint', toEndpoint(await serving.get(actorOf(req), req.params.endpointId))),
  );
  app.get(
    '/serving/endpoints/:endpointId/deployment',
    {
      schema: {
        tags,
        summary: 'The stored, validated DeploymentSpec and its native forms (FR-025)',
        params: endpointParams,
        response: { 200: envelope(deploymentViewSchema) },
      },
    },
    async (req) => {
      const e = toEndpoint(await serving.get(actorOf(req), req.params.endpointId));
      return ok('Deployment', {
        endpointId: e.id,
        deploymentSpec: e.deploymentSpec,
        image: e.image,
        imageVariant: e.imageVariant,
        imageReason: e.imageReason,
        converted: {},
      });
    },
  );
};
