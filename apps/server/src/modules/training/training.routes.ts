import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { findGpuType, gpuTypesFor } from '@llmops/config';
import {
  envelope,
  gpuTypeSchema,
  gpuTypesQuerySchema,
  jobListQuerySchema,
  jobLogsSchema,
  retryJobSchema,
  setPriorityBodySchema,
  page,
  revalidateResultSchema,
  submitJobRequestSchema,
  trainingJobSchema,
  validationResultSchema,
} from '@llmops/spec';
import { actorOf } from '../../plugins/auth.ts';
import { ok, toJob } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';
import { streamJobLogs } from './log-stream.ts';
import { toJobTracking } from '../tracking/tracking.routes.ts';

const jobParams = z.object({ jobId: z.string().min(1).max(200) });
const idempotencyHeaders = z.object({ 'idempotency-key': z.string().trim().min(1).max(200).optional() });
const jobEventSchema = z.object({
  id: z.number(),
  type: z.string(),
  fromStatus: z.string().nullable(),
  toStatus: z.string().nullable(),
  actor: z.string(),
  detail: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export const trainingRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (
  app,
  { services, platform, tracking },
) => {
  const { training, compliance, jobControl } = services;
  const tags = ['training'];
  const price = (gpuType: string) => findGpuType(platform.config, gpuType)?.price_per_gpu_hour ?? null;

  app.post(
    '/training/jobs',
    {
      schema: {
        tags,
        summary: 'Submit a training job (pretrain, finetune, hpo, retrain, rlhf, eval)',
        description: 'Same Idempotency-Key and body → the original job (200); same key, other body → 409.',
        headers: idempotencyHeaders,
        body: submitJobRequestSchema,
        response: { 200: envelope(trainingJobSchema), 201: envelope(trainingJobSchema) },
      },
      config: { audit: { action: 'training.job.submit', targetType: 'training_job' } },
    },
    async (req, reply) => {
      const { job, replayed } = await training.submit(actorOf(req), req.body, req.headers['idempotency-key']);
      return reply
        .status(replayed ? 200 : 201)
        .send(
          ok(
            replayed ? 'Job already submitted with this Idempotency-Key' : 'Job submitted',
            toJob(job, price),
          ),
        );
    },
  );

  app.post(
    '/training/jobs/validate',
    {
      schema: {
        tags,
        summary: 'Dry run: every rule, the image that would be chosen and the estimates; nothing is stored',
        body: submitJobRequestSchema,
        response: { 200: envelope(validationResultSchema) },
      },
    },
    async (req) => {
      const r = await training.validate(actorOf(req), req.body);
      return ok(r.valid ? 'Valid' : `Invalid: ${r.violations.length} rule violation(s)`, r);
    },
  );

  app.post(
    '/training/jobs/revalidate',
    {
      schema: {
        tags,
        summary: 'Re-check stored jobs against the current rules and mark non-compliant ones (FR-031)',
        querystring: z.object({ jobId: z.string().optional(), allProjects: z.stringbool().optional() }),
        response: { 200: envelope(revalidateResultSchema) },
      },
      config: { audit: { action: 'training.job.revalidate', targetType: 'training_job' } },
    },
    async (req) => {
      const r = await compliance.revalidateJobs(actorOf(req), req.query);
      return ok(`${r.checked} job(s) checked, ${r.nonCompliant} non-compliant`, r);
    },
  );

  app.get(
    '/training/jobs',
    {
      schema: {
        tags,
        summary: 'List training jobs, newest first',
        querystring: jobListQuerySchema,
        response: { 200: envelope(page(trainingJobSchema)) },
      },
    },
    async (req) => {
      const r = await training.list(actorOf(req), req.query);
      return ok('Training jobs', {
        items: r.items.map((j) => toJob(j, price)),
        total: r.total,
        limit: req.query.limit,
        offset: req.query.offset,
      });
    },
  );

  app.get(
    '/training/jobs/:jobId',
    {
      schema: {
        tags,
        summary: 'Get a training job',
        params: jobParams,
        response: { 200: envelope(trainingJobSchema) },
      },
    },
    async (req) => {
      const job = await training.get(actorOf(req), req.params.jobId);
      const queue = job.status === 'QUEUED' ? await jobControl.queuePosition(job.id) : null;
      const tracked = tracking ? toJobTracking(await tracking.jobTracking(job.id)) : null;
      return ok('Training job', { ...toJob(job, price), queue, tracking: tracked });
    },
  );

  app.get(
    '/training/jobs/:jobId/events',
    {
      schema: {
        tags,
        summary: 'State transitions and other events of a job',
        params: jobParams,
        response: { 200: envelope(z.array(jobEventSchema)) },
      },
    },
    async (req) => ok('Job events', await training.events(actorOf(req), req.params.jobId)),
  );

  const control = (action: 'cancel' | 'pause' | 'resume', summary: string) =>
    app.post(
      `/training/jobs/:jobId/${action}`,
      {
        schema: { tags, summary, params: jobParams, response: { 202: envelope(trainingJobSchema) } },
        config: { audit: { action: `training.job.${action}`, targetType: 'training_job' } },
      },
      async (req, reply) => {
        const actor = actorOf(req);
        await jobControl[action](actor, req.params.jobId);
        return reply
          .status(202)
          .send(ok(`${action} requested`, toJob(await training.get(actor, req.params.jobId), price)));
      },
    );
  control('cancel', 'Cancel a job; a running process is stopped and nothing is left running');
  control('pause', 'Pause a running job: the runtime writes a checkpoint and stops, freeing its GPUs');
  control('resume', 'Resume a paused job from its checkpoint');

  app.post(
    '/training/jobs/:jobId/retry',
    {
      schema: {
        tags,
        summary: 'Start a new attempt of a FAILED or CANCELLED job from a checkpoint',
        params: jobParams,
        body: retryJobSchema.nullish(),
        response: { 202: envelope(trainingJobSchema) },
      },
      config: { audit: { action: 'training.job.retry', targetType: 'training_job' } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      await jobControl.retry(actor, req.params.jobId, req.body?.fromCheckpoint);
      return reply
        .status(202)
        .send(ok('retry requested', toJob(await training.get(actor, req.params.jobId), price)));
    },
  );

  app.patch(
    '/training/jobs/:jobId/priority',
    {
      schema: {
        tags,
        summary: 'Change the priority of a queued or running job (reorders the queue)',
        params: jobParams,
        body: setPriorityBodySchema,
        response: { 200: envelope(trainingJobSchema) },
      },
      config: { audit: { action: 'training.job.priority', targetType: 'training_job' } },
    },
    async (req) => {
      const actor = actorOf(req);
      await jobControl.setPriority(actor, req.params.jobId, req.body.priority);
      return ok(
        `priority set to ${req.body.priority}`,
        toJob(await training.get(actor, req.params.jobId), price),
      );
    },
  );

  app.get(
    '/training/jobs/:jobId/logs',
    {
      schema: {
        tags,
        summary: "The tail of an attempt's log (default: the latest attempt)",
        params: jobParams,
        querystring: z.object({
          attempt: z.coerce.number().int().min(1).optional(),
          tail: z.coerce.number().int().min(1).max(10_000).default(500),
        }),
        response: { 200: envelope(jobLogsSchema) },
      },
    },
    async (req) => ok('Job logs', await jobControl.logs(actorOf(req), req.params.jobId, req.query)),
  );

  app.get(
    '/training/jobs/:jobId/logs/stream',
    {
      schema: {
        tags,
        summary: 'Live log lines and status changes as Server-Sent Events (events: log, status, end)',
        params: jobParams,
      },
    },
    async (req, reply) => {
      const target = await jobControl.streamTarget(actorOf(req), req.params.jobId);
      reply.hijack();
      await streamJobLogs(req.raw, reply.raw, target);
    },
  );

  app.get(
    '/training/gpu-types',
    {
      schema: {
        tags,
        summary: 'GPU types users may request, per environment (FR-032)',
        querystring: gpuTypesQuerySchema,
        response: { 200: envelope(z.array(gpuTypeSchema)) },
      },
    },
    async (req) => {
      actorOf(req);
      const env = req.query.env ?? platform.config.environment;
      return ok(
        `GPU types of '${env}'`,
        gpuTypesFor(platform.config, env).map((g) => ({
          name: g.name,
          memory_gib: g.memory_gib,
          price_per_gpu_hour: g.price_per_gpu_hour,
          max_per_node: g.max_per_node ?? null,
        })),
      );
    },
  );
};
