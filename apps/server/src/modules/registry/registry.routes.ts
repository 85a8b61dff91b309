import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  aliasMoveSchema,
  envelope,
  errorEnvelopeSchema,
  modelVersionSchema,
  promoteRequestSchema,
  registeredModelSchema,
  registryAliasParamsSchema,
  registryModelParamsSchema,
  registryModelsQuerySchema,
  registryStageSchema,
  registryVersionsQuerySchema,
  rollbackRequestSchema,
  tokenPage,
} from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

// MLflow unreachable or not configured answers 503 naming MLflow.
const unavailable = { 503: errorEnvelopeSchema };

/** The model registry on MLflow: registered models, versions, stage aliases, promotion and rollback. */
export const registryRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, { services }) => {
  const { registry } = services;
  const tags = ['registry'];

  app.get(
    '/registry/models',
    {
      schema: {
        tags,
        summary: "List the project's registered models (MLflow), optionally by name substring",
        querystring: registryModelsQuerySchema,
        response: { 200: envelope(tokenPage(registeredModelSchema)), ...unavailable },
      },
    },
    async (req) => ok('Registered models', await registry.listModels(actorOf(req), req.query)),
  );
  app.get(
    '/registry/models/:name',
    {
      schema: {
        tags,
        summary: 'Get a registered model with its aliases',
        params: registryModelParamsSchema,
        response: { 200: envelope(registeredModelSchema), ...unavailable },
      },
    },
    async (req) => ok('Registered model', await registry.getModel(actorOf(req), req.params.name)),
  );
  app.get(
    '/registry/models/:name/versions',
    {
      schema: {
        tags,
        summary: 'List the versions of a registered model, newest first, with aliases and lineage',
        params: registryModelParamsSchema,
        querystring: registryVersionsQuerySchema,
        response: { 200: envelope(tokenPage(modelVersionSchema)), ...unavailable },
      },
    },
    async (req) =>
      ok('Model versions', await registry.listVersions(actorOf(req), req.params.name, req.query)),
  );
  app.get(
    '/registry/models/:name/aliases/:alias',
    {
      schema: {
        tags,
        summary: 'The version an alias (e.g. the stage dev, staging or prod) points at',
        params: registryAliasParamsSchema,
        response: { 200: envelope(modelVersionSchema), ...unavailable },
      },
    },
    async (req) =>
      ok(
        `Version of '${req.params.alias}'`,
        await registry.getByAlias(actorOf(req), req.params.name, req.params.alias),
      ),
  );
  app.get(
    '/registry/models/:name/history',
    {
      schema: {
        tags,
        summary: 'The recorded stage alias moves (promotions and rollbacks), newest first',
        params: registryModelParamsSchema,
        querystring: z.object({ stage: registryStageSchema.optional() }).strict(),
        response: { 200: envelope(z.array(aliasMoveSchema)), ...unavailable },
      },
    },
    async (req) =>
      ok('Stage history', await registry.history(actorOf(req), req.params.name, req.query.stage)),
  );
  app.post(
    '/registry/models/:name/promote',
    {
      schema: {
        tags,
        summary:
          "Move a stage's alias to a version after the promotion gates allow it (editors: dev, staging; admins: prod)",
        params: registryModelParamsSchema,
        body: promoteRequestSchema,
        response: { 200: envelope(aliasMoveSchema), ...unavailable },
      },
      config: { audit: { action: 'registry.model.promote', targetType: 'registry_alias_move' } },
    },
    async (req) => {
      const move = await registry.promote(actorOf(req), req.params.name, req.body);
      return ok(
        move.moved
          ? `'${move.stage}' of '${move.model}' moved from ${move.fromVersion ?? 'no version'} to version ${move.toVersion}`
          : `'${move.stage}' of '${move.model}' already points at version ${move.toVersion}`,
        move,
      );
    },
  );
  app.post(
    '/registry/models/:name/rollback',
    {
      schema: {
        tags,
        summary: "Move a stage's alias back to the version it pointed at before the last promotion",
        params: registryModelParamsSchema,
        body: rollbackRequestSchema,
        response: { 200: envelope(aliasMoveSchema), ...unavailable },
      },
      config: { audit: { action: 'registry.model.rollback', targetType: 'registry_alias_move' } },
    },
    async (req) => {
      const move = await registry.rollback(actorOf(req), req.params.name, req.body);
      return ok(
        `'${move.stage}' of '${move.model}' rolled back from version ${move.fromVersion ?? '-'} to version ${move.toVersion}`,
        move,
      );
    },
  );
};
