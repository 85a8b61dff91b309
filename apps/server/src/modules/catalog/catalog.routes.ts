import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { MultipartFile } from '@fastify/multipart';
import {
  createDatasetRefSchema,
  createModelSchema,
  datasetSchema,
  datasetTypeSchema,
  envelope,
  modelSchema,
  page,
  paginationQuerySchema,
  zodIssuesToViolations,
} from '@llmops/spec';
import { createError, schemaInvalid } from '@llmops/core';
import { actorOf } from '../../plugins/auth.ts';
import { ok, toDataset, toModel } from '../mappers.ts';
import type { ModuleOptions } from '../types.ts';

const idParams = z.object({ id: z.string().min(1).max(200) });
const uploadFieldsSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    version: z.string().trim().min(1).max(100),
    type: datasetTypeSchema,
  })
  .strict();

function fieldValue(file: MultipartFile, name: string): string | undefined {
  const f = file.fields[name];
  const one = Array.isArray(f) ? f[0] : f;
  return one && one.type === 'field' ? String(one.value) : undefined;
}

export const catalogRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (
  app,
  { services, uploadLimitBytes },
) => {
  const { catalog } = services;
  const tags = ['catalog'];

  app.post(
    '/catalog/models',
    {
      schema: {
        tags,
        summary: 'Register a model in the catalog',
        body: createModelSchema,
        response: { 201: envelope(modelSchema) },
      },
      config: { audit: { action: 'catalog.model.create', targetType: 'model' } },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(ok('Model registered', toModel(await catalog.createModel(actorOf(req), req.body)))),
  );
  app.get(
    '/catalog/models',
    {
      schema: {
        tags,
        summary: 'List catalog models',
        querystring: paginationQuerySchema.extend({
          search: z.string().max(200).optional(),
          family: z.string().max(64).optional(),
        }),
        response: { 200: envelope(page(modelSchema)) },
      },
    },
    async (req) => {
      const r = await catalog.listModels(actorOf(req), req.query);
      return ok('Models', {
        items: r.items.map(toModel),
        total: r.total,
        limit: req.query.limit,
        offset: req.query.offset,
      });
    },
  );
  app.get(
    '/catalog/models/:id',
    {
      schema: {
        tags,
        summary: 'Get a catalog model',
        params: idParams,
        response: { 200: envelope(modelSchema) },
      },
    },
    async (req) => ok('Model', toModel(await catalog.getModel(actorOf(req), req.params.id))),
  );

  app.post(
    '/catalog/datasets',
    {
      schema: {
        tags,
        summary:
          'Register a dataset by reference (JSON) or upload a JSONL/CSV file (multipart: fields name, version, type, then file)',
        description:
          'multipart/form-data uploads are checked row by row against the declared type and stored with their SHA-256 in the artifact store; one broken row rejects the upload (422) and nothing is stored.',
        body: createDatasetRefSchema.nullish(),
        response: { 201: envelope(datasetSchema) },
      },
      config: { audit: { action: 'catalog.dataset.create', targetType: 'dataset' } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      if (!req.isMultipart()) {
        if (!req.body)
          throw createError(
            'BAD_REQUEST',
            'Send a JSON body {name, version, type, storage_uri} or a multipart upload',
          );
        return reply
          .status(201)
          .send(ok('Dataset registered', toDataset(await catalog.createDatasetRef(actor, req.body))));
      }
      const file = await req.file({ limits: { fileSize: uploadLimitBytes, files: 1, fields: 10 } });
      if (!file) throw createError('BAD_REQUEST', 'The multipart body has no file part');
      const fields = uploadFieldsSchema.safeParse(
        {
          name: fieldValue(file, 'name'),
          version: fieldValue(file, 'version'),
          type: fieldValue(file, 'type'),
        },
        { reportInput: true },
      );
      if (!fields.success) {
        file.file.resume();
        throw schemaInvalid(
          zodIssuesToViolations(fields.error, 'fields'),
          'Upload (fields name, version and type must come before the file)',
        );
      }
      const ds = await catalog.uploadDataset(actor, {
        ...fields.data,
        filename: file.filename,
        stream: file.file,
        truncated: () => file.file.truncated,
      });
      return reply.status(201).send(ok('Dataset uploaded and validated', toDataset(ds)));
    },
  );
  app.get(
    '/catalog/datasets',
    {
      schema: {
        tags,
        summary: 'List catalog datasets',
        querystring: paginationQuerySchema.extend({
          search: z.string().max(200).optional(),
          type: datasetTypeSchema.optional(),
        }),
        response: { 200: envelope(page(datasetSchema)) },
      },
    },
    async (req) => {
      const r = await catalog.listDatasets(actorOf(req), req.query);
      return ok('Datasets', {
        items: r.items.map(toDataset),
        total: r.total,
        limit: req.query.limit,
        offset: req.query.offset,
      });
    },
  );
  app.get(
    '/catalog/datasets/:id',
    {
      schema: {
        tags,
        summary: 'Get a catalog dataset',
        params: idParams,
        response: { 200: envelope(datasetSchema) },
      },
    },
    async (req) => ok('Dataset', toDataset(await catalog.getDataset(actorOf(req), req.params.id))),
  );
};
