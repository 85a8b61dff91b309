import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  compareRunsRequestSchema,
  envelope,
  errorEnvelopeSchema,
  experimentRunSchema,
  experimentRunsQuerySchema,
  runComparisonSchema,
  tokenPage,
} from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

const unavailable = { 503: errorEnvelopeSchema };

/** Searching and comparing the project's MLflow runs. */
export const experimentsRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, { services }) => {
  const { experiments } = services;
  const tags = ['experiments'];

  app.get(
    '/experiments/runs',
    {
      schema: {
        tags,
        summary: "Search the project's runs by model, dataset (name or digest) and start date, newest first",
        querystring: experimentRunsQuerySchema,
        response: {
          200: envelope(
            tokenPage(experimentRunSchema).extend({
              experimentId: z
                .string()
                .nullable()
                .describe("The project's MLflow experiment; null before its first run"),
            }),
          ),
          ...unavailable,
        },
      },
    },
    async (req) => {
      const r = await experiments.searchRuns(actorOf(req), req.query);
      return ok(`${r.items.length} run(s)`, r);
    },
  );
  // A read, though a POST: ten run ids do not fit a query string comfortably. Not audited.
  app.post(
    '/experiments/compare',
    {
      schema: {
        tags,
        summary:
          'Compare up to 10 runs: parameters side by side (differences flagged), metric histories by step',
        body: compareRunsRequestSchema,
        response: { 200: envelope(runComparisonSchema), ...unavailable },
      },
    },
    async (req) => {
      const r = await experiments.compare(actorOf(req), req.body.run_ids);
      const differing = r.params.filter((p) => p.differs).length;
      return ok(`${r.runs.length} run(s) compared; ${differing} parameter(s) differ`, r);
    },
  );
};
