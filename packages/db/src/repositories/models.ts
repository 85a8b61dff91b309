import { randomUUID } from 'node:crypto';
import { containsPattern, isUuid, jsonParam, selectPage, toIso, toNumber, Where } from '../rows.ts';
import type { ListResult, Page } from '../rows.ts';
import type { Sql } from '../sql.ts';

export interface ModelRow {
  id: string;
  projectId: string;
  name: string;
  version: string;
  modelFamily: string;
  maxPositionEmbeddings: number;
  parameterCount: number;
  storageUri: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
}

export interface CreateModelInput {
  projectId: string;
  name: string;
  /** Defaults to '1'. */
  version?: string;
  modelFamily: string;
  maxPositionEmbeddings: number;
  parameterCount: number;
  storageUri?: string | null;
  description?: string | null;
  metadata?: Record<string, unknown>;
  createdBy: string;
  id?: string;
}

export interface ListModelsFilter extends Page {
  /** Case-insensitive substring of the name or description. */
  search?: string;
  family?: string;
}

interface ModelRecord {
  id: string;
  project_id: string;
  name: string;
  version: string;
  model_family: string;
  max_position_embeddings: number;
  parameter_count: string | number;
  storage_uri: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  created_by: string;
  created_at: Date;
}

const COLUMNS =
  'id, project_id, name, version, model_family, max_position_embeddings, parameter_count, storage_uri, description, metadata, created_by, created_at';

function toModel(r: ModelRecord): ModelRow {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    version: r.version,
    modelFamily: r.model_family,
    maxPositionEmbeddings: r.max_position_embeddings,
    parameterCount: toNumber(r.parameter_count),
    storageUri: r.storage_uri,
    description: r.description,
    metadata: r.metadata,
    createdBy: r.created_by,
    createdAt: toIso(r.created_at),
  };
}

export function createModelsRepository(sql: Sql) {
  return {
    async create(input: CreateModelInput): Promise<ModelRow> {
      const [row] = await sql.query<ModelRecord>(
        `INSERT INTO catalog_models (id, project_id, name, version, model_family, max_position_embeddings,
           parameter_count, storage_uri, description, metadata, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11) RETURNING ${COLUMNS}`,
        [
          input.id ?? randomUUID(),
          input.projectId,
          input.name,
          input.version ?? '1',
          input.modelFamily,
          input.maxPositionEmbeddings,
          input.parameterCount,
          input.storageUri ?? null,
          input.description ?? null,
          jsonParam(input.metadata ?? {}),
          input.createdBy,
        ],
      );
      return toModel(row!);
    },

    async getById(projectId: string, id: string): Promise<ModelRow | null> {
      if (!isUuid(projectId) || !isUuid(id)) return null;
      const [row] = await sql.query<ModelRecord>(
        `SELECT ${COLUMNS} FROM catalog_models WHERE project_id = $1 AND id = $2`,
        [projectId, id],
      );
      return row ? toModel(row) : null;
    },

    /** Without a version, the most recently registered version of that name. */
    async getByName(projectId: string, name: string, version?: string): Promise<ModelRow | null> {
      if (!isUuid(projectId)) return null;
      const [row] = await sql.query<ModelRecord>(
        `SELECT ${COLUMNS} FROM catalog_models
          WHERE project_id = $1 AND name = $2 AND ($3::text IS NULL OR version = $3::text)
          ORDER BY created_at DESC, id DESC LIMIT 1`,
        [projectId, name, version ?? null],
      );
      return row ? toModel(row) : null;
    },

    async list(projectId: string, filter: ListModelsFilter): Promise<ListResult<ModelRow>> {
      const where = new Where().add('project_id = $?', isUuid(projectId) ? projectId : null);
      if (filter.search) {
        const pattern = containsPattern(filter.search);
        where.add('(name ILIKE $? OR description ILIKE $?)', pattern, pattern);
      }
      if (filter.family) where.add('model_family = $?', filter.family);
      return selectPage(
        sql,
        {
          columns: COLUMNS,
          from: 'catalog_models',
          where,
          orderBy: 'created_at DESC, id DESC',
          page: filter,
        },
        toModel,
      );
    },
  };
}

export type ModelsRepository = ReturnType<typeof createModelsRepository>;
