import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  createEndpointSchema,
  endpointDeploymentSchema,
  endpointSchema,
  endpointValidationResultSchema,
  envelope,
  page,
  endpointStatusSchema,
  endpointEventSchema,
  endpointRevisionSchema,
  paginationQuerySchema,
  revalidateResultSchema,
  endpointRollbackRequestSchema,
  rolloutRequestSchema,
  scaleRequestSchema,
  type RolloutMode,
} from '@llmops/spec';
import type { EndpointEventRow, RevisionRow } from '@llmops/db';
import { createError, isLlmopsError } from '@llmops/core';
import { inferenceRoutes } from './inference.routes.ts';
import { actorOf } from '../../plugins/auth.ts';
import { ok, toEndpoint } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

const endpointParams = z.object({ endpointId: z.string().min(1).max(200) });

const toRevision = (r: RevisionRow) => ({
  id: r.id,
  seq: r.seq,
  modelId: r.modelId,
  modelRef: r.modelRef,
  modelVersion: r.modelVersion,
  mode: r.mode as RolloutMode,
  state: r.state,
  traffic: r.traffic,
  shadow: r.shadow,
  replicas: r.replicas,
  message: r.message,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toEvent = (e: EndpointEventRow) => ({
  seq: e.seq,
  revisionId: e.revisionId,
  type: e.type,
  message: e.message,
  detail: e.detail,
  actor: e.actor,
  at: e.at,
});

export const servingRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, opts) => {
  const { services } = opts;
  const { serving, compliance, rollouts } = services;
  const tags = ['serving'];
  await app.register(inferenceRoutes, opts);

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
      const actor = actorOf(req);
      const { endpoint, replayed } = await serving.create(actor, req.body, req.headers['idempotency-key']);
      // The first deployment starts at once when the workflow engine is there; otherwise the endpoint
      // stays PENDING and deploys when the platform reconnects. A model without files to serve leaves it
      // PENDING too, and the reply says why.
      let note = '';
      if (!replayed)
        await rollouts.deployNew(actor, endpoint).then(
          () => (note = '; deploying'),
          (e: unknown) => {
            if (!(isLlmopsError(e) && (e.code === 'UNAVAILABLE' || e.code === 'VALIDATION_FAILED'))) throw e;
            req.log.warn({ endpointId: endpoint.id }, e.message);
            note = `; not deployed yet: ${e.message}`;
          },
        );
      const stored = (await serving.get(actor, endpoint.id).catch(() => null)) ?? endpoint;
      return reply
        .status(replayed ? 200 : 201)
        .send(
          ok(
            replayed ? 'Endpoint already created with this Idempotency-Key' : `Endpoint created${note}`,
            toEndpoint(stored),
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
  const endpointParamsOnly = { params: endpointParams };
  app.post(
    '/serving/endpoints/:endpointId/rollouts',
    {
      schema: {
        tags,
        summary:
          'Roll a new model version (or DeploymentSpec) out to the endpoint: blue-green, canary, shadow or A/B',
        ...endpointParamsOnly,
        body: rolloutRequestSchema,
        response: { 202: envelope(endpointRevisionSchema) },
      },
      config: { audit: { action: 'serving.endpoint.rollout', targetType: 'serving_endpoint' } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const body = req.body;
      if (body.deploymentSpec) {
        const current = await serving.get(actor, req.params.endpointId);
        const check = await serving.validate(actor, {
          route: current.route,
          environment: current.environment,
          ...(body.modelId ? { modelId: body.modelId } : {}),
          deploymentSpec: body.deploymentSpec,
        });
        if (!check.valid)
          throw createError(
            'VALIDATION_FAILED',
            check.violations.length
              ? `The new DeploymentSpec breaks ${check.violations.length} rule(s)`
              : (check.deployment?.error?.message ?? 'The new DeploymentSpec cannot be deployed'),
            { violations: check.violations },
          );
      }
      const r = await rollouts.rollout(actor, req.params.endpointId, body);
      return reply
        .status(202)
        .send(
          ok(
            `Revision ${r.revision.seq} is being rolled out (${r.mode}: ${r.steps.join(' → ')} %)`,
            toRevision(r.revision),
          ),
        );
    },
  );
  app.post(
    '/serving/endpoints/:endpointId/scale',
    {
      schema: {
        tags,
        summary: 'Change the number of model server replicas (a blue-green rollout of the same version)',
        ...endpointParamsOnly,
        body: scaleRequestSchema,
        response: { 202: envelope(endpointRevisionSchema) },
      },
      config: { audit: { action: 'serving.endpoint.scale', targetType: 'serving_endpoint' } },
    },
    async (req, reply) => {
      const r = await rollouts.scale(actorOf(req), req.params.endpointId, req.body.replicas);
      return reply
        .status(202)
        .send(
          ok(
            `Scaling to ${req.body.replicas} replica(s) (revision ${r.revision.seq})`,
            toRevision(r.revision),
          ),
        );
    },
  );
  app.post(
    '/serving/endpoints/:endpointId/promote',
    {
      schema: {
        tags,
        summary: 'Give the revision being rolled out all live traffic now',
        ...endpointParamsOnly,
        response: { 202: envelope(endpointRevisionSchema) },
      },
      config: { audit: { action: 'serving.endpoint.promote', targetType: 'serving_endpoint' } },
    },
    async (req, reply) => {
      const rev = await rollouts.promote(actorOf(req), req.params.endpointId);
      return reply.status(202).send(ok(`Revision ${rev.seq} is being promoted`, toRevision(rev)));
    },
  );
  app.post(
    '/serving/endpoints/:endpointId/rollback',
    {
      schema: {
        tags,
        summary: 'Put all traffic back on the previous revision and remove the one being rolled out',
        ...endpointParamsOnly,
        body: endpointRollbackRequestSchema.optional(),
        response: { 202: envelope(endpointRevisionSchema) },
      },
      config: { audit: { action: 'serving.endpoint.rollback', targetType: 'serving_endpoint' } },
    },
    async (req, reply) => {
      const rev = await rollouts.rollback(actorOf(req), req.params.endpointId, req.body?.reason);
      return reply.status(202).send(ok(`Revision ${rev.seq} is being rolled back`, toRevision(rev)));
    },
  );
  app.delete(
    '/serving/endpoints/:endpointId',
    {
      schema: {
        tags,
        summary: 'Stop every model server of the endpoint; the endpoint and its history are kept as DELETED',
        ...endpointParamsOnly,
        response: { 202: envelope(endpointSchema) },
      },
      config: { audit: { action: 'serving.endpoint.delete', targetType: 'serving_endpoint' } },
    },
    async (req, reply) => {
      const ep = await rollouts.remove(actorOf(req), req.params.endpointId);
      return reply.status(202).send(ok('Endpoint is being deleted', toEndpoint(ep)));
    },
  );
  app.get(
    '/serving/endpoints/:endpointId/status',
    {
      schema: {
        tags,
        summary: 'Versions, traffic shares, replicas and health of the endpoint, with the rollout under way',
        ...endpointParamsOnly,
        querystring: z.object({ windowSeconds: z.coerce.number().int().min(1).max(600).optional() }),
        response: { 200: envelope(endpointStatusSchema) },
      },
    },
    async (req) => {
      const st = await rollouts.status(actorOf(req), req.params.endpointId, req.query);
      return ok(`Endpoint is ${st.endpoint.status}`, {
        endpointId: st.endpoint.id,
        status: st.endpoint.status,
        revisions: st.revisions.map((r) => ({
          ...toRevision(r.revision),
          backend: r.backend
            ? { state: r.backend.state, message: r.backend.message, replicas: r.backend.replicas }
            : null,
          health: r.stats,
        })),
        rollout: st.rollout,
        events: st.events.map(toEvent),
        windowSeconds: st.windowSeconds,
      });
    },
  );
  app.get(
    '/serving/endpoints/:endpointId/events',
    {
      schema: {
        tags,
        summary: "The endpoint's events: deploys, traffic shifts, health verdicts, rollbacks",
        ...endpointParamsOnly,
        querystring: z.object({ afterSeq: z.coerce.number().int().min(0).optional() }),
        response: { 200: envelope(z.array(endpointEventSchema)) },
      },
    },
    async (req) => {
      const events = await rollouts.events(actorOf(req), req.params.endpointId, req.query.afterSeq ?? 0);
      return ok(`${events.length} event(s)`, events.map(toEvent));
    },
  );
};
