import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  createEndpointSchema,
  endpointDeploymentSchema,
  endpointSchema,
  endpointValidationResultSchema,
  envelope,
  page,
  paginationQuerySchema,
  revalidateResultSchema,
} from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok, toEndpoint } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

const endpointParams = z.object({ endpointId: z.string().min(1).max(200) });

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
        summary: 'Dry run of a DeploymentSpec with the manifest it would get; nothing is stored',
        body: createEndpointSchema,
        response: { 200: envelope(endpointValidationResultSchema) },
      },
    },
    async (req) => {
      const r = await serving.validate(actorOf(req), req.body);
      const message = r.valid
        ? 'Valid'
        : r.violations.length
          ? `Invalid: ${r.violations.length} rule violation(s)`
          : `Invalid: ${r.deployment?.error?.message ?? 'the deployment cannot be converted'}`;
      return ok(message, r);
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
        summary: 'The stored, validated DeploymentSpec and its native form on the serving backend (FR-025)',
        params: endpointParams,
        response: { 200: envelope(endpointDeploymentSchema) },
      },
    },
    async (req) => {
      const { endpoint, deployment } = await serving.deployment(actorOf(req), req.params.endpointId);
      const e = toEndpoint(endpoint);
      return ok('Deployment', {
        endpointId: e.id,
        deploymentSpec: e.deploymentSpec,
        image: e.image,
        imageVariant: e.imageVariant,
        imageReason: e.imageReason,
        converted: deployment.kind && deployment.manifest ? { [deployment.kind]: deployment.manifest } : {},
        backend: deployment.backend,
        kind: deployment.kind,
        manifest: deployment.manifest,
        manifestError: deployment.error,
      });
    },
  );
};
