import { randomUUID } from 'node:crypto';
import { isUuid, jsonParam, selectPage, toIso, toIsoOrNull, Where } from '../rows.ts';
import type { ListResult, Page } from '../rows.ts';
import { publishChange } from '../changes.ts';
import type { Sql } from '../sql.ts';
import { COMPLIANT } from './compliance.ts';
import type { Compliance } from './compliance.ts';

export interface EndpointRow {
  id: string;
  projectId: string;
  name: string | null;
  route: string;
  environment: string;
  modelId: string | null;
  modelRef: string;
  /** The validated DeploymentSpec. */
  spec: Record<string, unknown>;
  /** The whole request body as submitted. */
  request: Record<string, unknown>;
  image: string;
  imageVariant: string;
  imageReason: string;
  status: string;
  compliance: Compliance;
  complianceCheckedAt: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface CreateEndpointInput {
  id?: string;
  projectId: string;
  name?: string | null;
  route: string;
  environment: string;
  modelId?: string | null;
  modelRef: string;
  spec: Record<string, unknown>;
  request: Record<string, unknown>;
  image: string;
  imageVariant: string;
  imageReason: string;
  /** Defaults to 'PENDING'. */
  status?: string;
  compliance?: Compliance;
  createdBy: string;
}

interface EndpointRecord {
  id: string;
  project_id: string;
  name: string | null;
  route: string;
  environment: string;
  model_id: string | null;
  model_ref: string;
  spec: Record<string, unknown>;
  request: Record<string, unknown>;
  image: string;
  image_variant: string;
  image_reason: string;
  status: string;
  compliance: Compliance;
  compliance_checked_at: Date | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, project_id, name, route, environment, model_id, model_ref, spec, request, image, image_variant, ' +
  'image_reason, status, compliance, compliance_checked_at, created_by, created_at, updated_at';

function toEndpoint(r: EndpointRecord): EndpointRow {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    route: r.route,
    environment: r.environment,
    modelId: r.model_id,
    modelRef: r.model_ref,
    spec: r.spec,
    request: r.request,
    image: r.image,
    imageVariant: r.image_variant,
    imageReason: r.image_reason,
    status: r.status,
    compliance: r.compliance,
    complianceCheckedAt: toIsoOrNull(r.compliance_checked_at),
    createdBy: r.created_by,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

export function createEndpointsRepository(sql: Sql) {
  return {
    /**
     * A route already used in the project raises ConflictError (constraint
     * `serving_endpoints_project_route_key`). Pass `tx` to create inside a caller's transaction.
     */
    async create(input: CreateEndpointInput, tx?: Sql): Promise<EndpointRow> {
      const q = tx ?? sql;
      const [row] = await q.query<EndpointRecord>(
        `INSERT INTO serving_endpoints (id, project_id, name, route, environment, model_id, model_ref, spec, request,
           image, image_variant, image_reason, status, compliance, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13, $14::jsonb, $15)
         RETURNING ${COLUMNS}`,
        [
          input.id ?? randomUUID(),
          input.projectId,
          input.name ?? null,
          input.route,
          input.environment,
          input.modelId ?? null,
          input.modelRef,
          jsonParam(input.spec),
          jsonParam(input.request),
          input.image,
          input.imageVariant,
          input.imageReason,
          input.status ?? 'PENDING',
          jsonParam(input.compliance ?? COMPLIANT),
          input.createdBy,
        ],
      );
      // A proxy may remember that nothing answered at this route.
      await publishChange(q, 'endpoint', row!.id);
      return toEndpoint(row!);
    },

    async getById(projectId: string, id: string): Promise<EndpointRow | null> {
      if (!isUuid(projectId) || !isUuid(id)) return null;
      const [row] = await sql.query<EndpointRecord>(
        `SELECT ${COLUMNS} FROM serving_endpoints WHERE project_id = $1 AND id = $2`,
        [projectId, id],
      );
      return row ? toEndpoint(row) : null;
    },

    async getByRoute(projectId: string, route: string): Promise<EndpointRow | null> {
      if (!isUuid(projectId)) return null;
      const [row] = await sql.query<EndpointRecord>(
        `SELECT ${COLUMNS} FROM serving_endpoints WHERE project_id = $1 AND route = $2`,
        [projectId, route],
      );
      return row ? toEndpoint(row) : null;
    },

    /** Newest first. */
    async list(projectId: string, page: Page): Promise<ListResult<EndpointRow>> {
      const where = new Where().add('project_id = $?', isUuid(projectId) ? projectId : null);
      return selectPage(
        sql,
        { columns: COLUMNS, from: 'serving_endpoints', where, orderBy: 'created_at DESC, id DESC', page },
        toEndpoint,
      );
    },

    /** Every stored endpoint (optionally one project or one endpoint), oldest first, for re-validation. */
    async listAll(filter: { projectId?: string; endpointId?: string } = {}): Promise<EndpointRow[]> {
      const { projectId, endpointId } = filter;
      if ((projectId && !isUuid(projectId)) || (endpointId && !isUuid(endpointId))) return [];
      const where = new Where();
      if (projectId) where.add('project_id = $?', projectId);
      if (endpointId) where.add('id = $?', endpointId);
      const rows = await sql.query<EndpointRecord>(
        `SELECT ${COLUMNS} FROM serving_endpoints ${where.sql} ORDER BY created_at, id`,
        where.params,
      );
      return rows.map(toEndpoint);
    },

    /** Records the outcome of a rules check; null when the endpoint does not exist. */
    async setCompliance(id: string, compliance: Compliance): Promise<EndpointRow | null> {
      if (!isUuid(id)) return null;
      const [row] = await sql.query<EndpointRecord>(
        `UPDATE serving_endpoints SET compliance = $2::jsonb, compliance_checked_at = now(), updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, jsonParam(compliance)],
      );
      return row ? toEndpoint(row) : null;
    },

    async setStatus(id: string, status: string, tx?: Sql): Promise<EndpointRow | null> {
      if (!isUuid(id)) return null;
      const q = tx ?? sql;
      const [row] = await q.query<EndpointRecord>(
        `UPDATE serving_endpoints SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, status],
      );
      if (row) await publishChange(q, 'endpoint', id);
      return row ? toEndpoint(row) : null;
    },
  };
}

export type EndpointsRepository = ReturnType<typeof createEndpointsRepository>;
