import { randomUUID } from 'node:crypto';
import {
  containsPattern,
  isUuid,
  optionalJsonParam,
  selectPage,
  toIso,
  toNumberOrNull,
  Where,
} from '../rows.ts';
import type { ListResult, Page } from '../rows.ts';
import type { Sql } from '../sql.ts';

export type DatasetFormat = 'jsonl' | 'csv';

export interface DatasetRow {
  id: string;
  projectId: string;
  name: string;
  version: string;
  type: string;
  storageUri: string;
  sha256: string | null;
  sizeBytes: number | null;
  rowCount: number | null;
  format: DatasetFormat | null;
  validation: unknown;
  createdBy: string;
  createdAt: string;
}

export interface CreateDatasetInput {
  projectId: string;
  name: string;
  version: string;
  type: string;
  storageUri: string;
  sha256?: string | null;
  sizeBytes?: number | null;
  rowCount?: number | null;
  format?: DatasetFormat | null;
  /** Validation report; null when the dataset has not been validated. */
  validation?: unknown;
  createdBy: string;
  id?: string;
}

export interface ListDatasetsFilter extends Page {
  /** Case-insensitive substring of the name. */
  search?: string;
  type?: string;
}

interface DatasetRecord {
  id: string;
  project_id: string;
  name: string;
  version: string;
  type: string;
  storage_uri: string;
  sha256: string | null;
  size_bytes: string | number | null;
  row_count: string | number | null;
  format: DatasetFormat | null;
  validation: unknown;
  created_by: string;
  created_at: Date;
}

const COLUMNS =
  'id, project_id, name, version, type, storage_uri, sha256, size_bytes, row_count, format, validation, created_by, created_at';

function toDataset(r: DatasetRecord): DatasetRow {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    version: r.version,
    type: r.type,
    storageUri: r.storage_uri,
    sha256: r.sha256,
    sizeBytes: toNumberOrNull(r.size_bytes),
    rowCount: toNumberOrNull(r.row_count),
    format: r.format,
    validation: r.validation ?? null,
    createdBy: r.created_by,
    createdAt: toIso(r.created_at),
  };
}

export function createDatasetsRepository(sql: Sql) {
  return {
    async create(input: CreateDatasetInput): Promise<DatasetRow> {
      const [row] = await sql.query<DatasetRecord>(
        `INSERT INTO catalog_datasets (id, project_id, name, version, type, storage_uri, sha256, size_bytes,
           row_count, format, validation, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12) RETURNING ${COLUMNS}`,
        [
          input.id ?? randomUUID(),
          input.projectId,
          input.name,
          input.version,
          input.type,
          input.storageUri,
          input.sha256 ?? null,
          input.sizeBytes ?? null,
          input.rowCount ?? null,
          input.format ?? null,
          optionalJsonParam(input.validation),
          input.createdBy,
        ],
      );
      return toDataset(row!);
    },

    async getById(projectId: string, id: string): Promise<DatasetRow | null> {
      if (!isUuid(projectId) || !isUuid(id)) return null;
      const [row] = await sql.query<DatasetRecord>(
        `SELECT ${COLUMNS} FROM catalog_datasets WHERE project_id = $1 AND id = $2`,
        [projectId, id],
      );
      return row ? toDataset(row) : null;
    },

    async getByNameVersion(projectId: string, name: string, version: string): Promise<DatasetRow | null> {
      if (!isUuid(projectId)) return null;
      const [row] = await sql.query<DatasetRecord>(
        `SELECT ${COLUMNS} FROM catalog_datasets WHERE project_id = $1 AND name = $2 AND version = $3`,
        [projectId, name, version],
      );
      return row ? toDataset(row) : null;
    },

    async list(projectId: string, filter: ListDatasetsFilter): Promise<ListResult<DatasetRow>> {
      const where = new Where().add('project_id = $?', isUuid(projectId) ? projectId : null);
      if (filter.search) where.add('name ILIKE $?', containsPattern(filter.search));
      if (filter.type) where.add('type = $?', filter.type);
      return selectPage(
        sql,
        {
          columns: COLUMNS,
          from: 'catalog_datasets',
          where,
          orderBy: 'created_at DESC, id DESC',
          page: filter,
        },
        toDataset,
      );
    },
  };
}

export type DatasetsRepository = ReturnType<typeof createDatasetsRepository>;
