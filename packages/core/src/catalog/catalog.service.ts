import type { Readable } from 'node:stream';
import type { Db } from '@llmops/db';
import type { DatasetType } from '@llmops/spec';
import { requireRole, type Actor } from '../identity/actor.ts';
import { createError, notFound, validationFailed } from '../errors.ts';
import type { ArtifactStore } from '../storage/artifact-store.ts';
import { formatFromFilename, ingestDatasetFile, type DatasetFileReport } from './dataset-file.ts';

export interface CreateModelInput {
  name: string;
  version: string;
  model_family: string;
  max_position_embeddings: number;
  parameter_count: number;
  storage_uri?: string | undefined;
  description?: string | undefined;
}

export interface DatasetUpload {
  name: string;
  version: string;
  type: DatasetType;
  filename: string;
  stream: Readable;
  /** True when the stream was cut at the configured size limit. */
  truncated: () => boolean;
}

export const DATASET_BUCKET = 'datasets';

export function createCatalogService(deps: {
  db: Db;
  store: ArtifactStore;
  families: () => readonly string[];
}) {
  const { repos } = deps.db;

  function checkFamily(family: string) {
    const known = deps.families();
    if (!known.includes(family))
      throw validationFailed(
        [
          {
            code: 'MODEL_FAMILY_NOT_SUPPORTED',
            path: 'model_family',
            message: `Model family '${family}' is not supported (supported: ${[...known].sort().join(', ')})`,
          },
        ],
        'Model',
      );
  }

  return {
    async createModel(actor: Actor, input: CreateModelInput) {
      const project = requireRole(actor, 'editor');
      checkFamily(input.model_family);
      if (await repos.models.getByName(project.id, input.name, input.version))
        throw createError(
          'CONFLICT',
          `Model '${input.name}' version '${input.version}' already exists in project '${project.slug}'`,
        );
      return repos.models.create({
        projectId: project.id,
        name: input.name,
        version: input.version,
        modelFamily: input.model_family,
        maxPositionEmbeddings: input.max_position_embeddings,
        parameterCount: input.parameter_count,
        storageUri: input.storage_uri ?? null,
        description: input.description ?? null,
        createdBy: actor.userId,
      });
    },
    async listModels(
      actor: Actor,
      q: { search?: string | undefined; family?: string | undefined; limit: number; offset: number },
    ) {
      const project = requireRole(actor, 'viewer');
      return repos.models.list(project.id, q);
    },
    async getModel(actor: Actor, id: string) {
      const project = requireRole(actor, 'viewer');
      const model = await repos.models.getById(project.id, id);
      if (!model) throw notFound('Model', id);
      return model;
    },

    async createDatasetRef(
      actor: Actor,
      input: {
        name: string;
        version: string;
        type: DatasetType;
        storage_uri: string;
        description?: string | undefined;
      },
    ) {
      const project = requireRole(actor, 'editor');
      await assertNewDataset(project.id, project.slug, input.name, input.version);
      return repos.datasets.create({
        projectId: project.id,
        name: input.name,
        version: input.version,
        type: input.type,
        storageUri: input.storage_uri,
        createdBy: actor.userId,
      });
    },

    /** Streams the file into the artifact store, checking each row; any broken row rejects the whole upload. */
    async uploadDataset(actor: Actor, upload: DatasetUpload) {
      const project = requireRole(actor, 'editor');
      const format = formatFromFilename(upload.filename);
      if (!format)
        throw createError(
          'UNSUPPORTED_MEDIA_TYPE',
          `File '${upload.filename}' must be .jsonl, .ndjson or .csv`,
        );
      await assertNewDataset(project.id, project.slug, upload.name, upload.version);
      const tmp = await deps.store.tmpPath(upload.filename);
      let report: DatasetFileReport;
      try {
        report = await ingestDatasetFile(upload.stream, tmp, format, upload.type);
      } catch (e) {
        await deps.store.discard(tmp);
        throw e;
      }
      if (upload.truncated()) {
        await deps.store.discard(tmp);
        throw createError('PAYLOAD_TOO_LARGE', `File '${upload.filename}' exceeds the upload limit`);
      }
      if (report.rows === 0 || report.errors.length > 0) {
        await deps.store.discard(tmp);
        const message =
          report.rows === 0
            ? `File '${upload.filename}' has no rows`
            : `File '${upload.filename}' has ${report.rows - report.valid} invalid row(s) of ${report.rows} for type '${upload.type}'; first: row ${report.errors[0]!.row}: ${report.errors[0]!.message}`;
        throw createError('VALIDATION_FAILED', message, {
          violations: report.errors.slice(0, 20).map((e) => ({
            code: 'SCHEMA_INVALID_VALUE' as const,
            path: `file[row ${e.row}]`,
            message: e.message,
          })),
          details: { rows: report.rows, valid: report.valid, errors: report.errors },
        });
      }
      const key = `${project.slug}/${upload.name}/${upload.version}/${report.sha256.slice(0, 16)}.${format}`;
      const uri = await deps.store.commit(tmp, DATASET_BUCKET, key);
      return repos.datasets.create({
        projectId: project.id,
        name: upload.name,
        version: upload.version,
        type: upload.type,
        storageUri: uri,
        sha256: report.sha256,
        sizeBytes: report.sizeBytes,
        rowCount: report.rows,
        format,
        validation: { rows: report.rows, valid: report.valid, errors: [], formats: report.formats },
        createdBy: actor.userId,
      });
    },
    async listDatasets(
      actor: Actor,
      q: { search?: string | undefined; type?: string | undefined; limit: number; offset: number },
    ) {
      const project = requireRole(actor, 'viewer');
      return repos.datasets.list(project.id, q);
    },
    async getDataset(actor: Actor, id: string) {
      const project = requireRole(actor, 'viewer');
      const ds = await repos.datasets.getById(project.id, id);
      if (!ds) throw notFound('Dataset', id);
      return ds;
    },
  };

  async function assertNewDataset(projectId: string, slug: string, name: string, version: string) {
    if (await repos.datasets.getByNameVersion(projectId, name, version))
      throw createError(
        'CONFLICT',
        `Dataset '${name}' version '${version}' already exists in project '${slug}'`,
      );
  }
}

export type CatalogService = ReturnType<typeof createCatalogService>;
