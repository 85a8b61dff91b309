import { randomUUID } from 'node:crypto';
import { isUuid, jsonParam, toIso, toNumber } from '../rows.ts';
import { publishChange } from '../changes.ts';
import type { Sql } from '../sql.ts';

export type RevisionMode = 'blue-green' | 'canary' | 'shadow' | 'ab';
export type RevisionRowState =
  | 'pending'
  | 'deploying'
  | 'ready'
  | 'serving'
  | 'standby'
  | 'failed'
  | 'rolled_back'
  | 'retired'
  | 'removed';

/** States of a revision whose model servers may still be running. */
export const LIVE_REVISION_STATES: readonly RevisionRowState[] = [
  'pending',
  'deploying',
  'ready',
  'serving',
  'standby',
];

export interface RevisionRow {
  id: string;
  endpointId: string;
  projectId: string;
  seq: number;
  modelId: string | null;
  modelRef: string;
  modelVersion: string;
  storageUri: string | null;
  spec: Record<string, unknown>;
  replicas: number;
  mode: RevisionMode;
  state: RevisionRowState;
  traffic: number;
  shadow: boolean;
  message: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface EndpointEventRow {
  seq: number;
  endpointId: string;
  revisionId: string | null;
  type: string;
  message: string;
  detail: Record<string, unknown>;
  actor: string;
  at: string;
}

interface RevisionRecord {
  id: string;
  endpoint_id: string;
  project_id: string;
  seq: number | string;
  model_id: string | null;
  model_ref: string;
  model_version: string;
  storage_uri: string | null;
  spec: Record<string, unknown>;
  replicas: number | string;
  mode: RevisionMode;
  state: RevisionRowState;
  traffic: number | string;
  shadow: boolean;
  message: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

interface EventRecord {
  seq: number | string;
  endpoint_id: string;
  revision_id: string | null;
  type: string;
  message: string;
  detail: Record<string, unknown>;
  actor: string;
  at: Date;
}

const COLUMNS =
  'id, endpoint_id, project_id, seq, model_id, model_ref, model_version, storage_uri, spec, replicas, mode, ' +
  'state, traffic, shadow, message, created_by, created_at, updated_at';

function toRevision(r: RevisionRecord): RevisionRow {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    projectId: r.project_id,
    seq: toNumber(r.seq),
    modelId: r.model_id,
    modelRef: r.model_ref,
    modelVersion: r.model_version,
    storageUri: r.storage_uri,
    spec: r.spec,
    replicas: toNumber(r.replicas),
    mode: r.mode,
    state: r.state,
    traffic: toNumber(r.traffic),
    shadow: r.shadow,
    message: r.message,
    createdBy: r.created_by,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

function toEvent(r: EventRecord): EndpointEventRow {
  return {
    seq: toNumber(r.seq),
    endpointId: r.endpoint_id,
    revisionId: r.revision_id,
    type: r.type,
    message: r.message,
    detail: r.detail,
    actor: r.actor,
    at: toIso(r.at),
  };
}

export interface CreateRevisionInput {
  id?: string;
  endpointId: string;
  projectId: string;
  modelId: string | null;
  modelRef: string;
  modelVersion: string;
  storageUri: string | null;
  spec: Record<string, unknown>;
  replicas: number;
  mode: RevisionMode;
  createdBy: string;
}

export interface RevisionPatch {
  state?: RevisionRowState;
  traffic?: number;
  shadow?: boolean;
  message?: string | null;
  replicas?: number;
}

export interface AppendEndpointEventInput {
  endpointId: string;
  revisionId?: string | null;
  type: string;
  message: string;
  detail?: Record<string, unknown>;
  actor: string;
}

export function createRevisionsRepository(sql: Sql) {
  return {
    /** The next seq of the endpoint is taken under a lock on the endpoint row, so two rollouts never share one. */
    async create(input: CreateRevisionInput, tx?: Sql): Promise<RevisionRow> {
      const run = async (q: Sql) => {
        await q.query('SELECT id FROM serving_endpoints WHERE id = $1 FOR UPDATE', [input.endpointId]);
        const [row] = await q.query<RevisionRecord>(
          `INSERT INTO endpoint_revisions (id, endpoint_id, project_id, seq, model_id, model_ref, model_version,
             storage_uri, spec, replicas, mode, created_by)
           SELECT $1, $2, $3, COALESCE(MAX(seq), 0) + 1, $4, $5, $6, $7, $8::jsonb, $9, $10, $11
             FROM endpoint_revisions WHERE endpoint_id = $2
           RETURNING ${COLUMNS}`,
          [
            input.id ?? randomUUID(),
            input.endpointId,
            input.projectId,
            input.modelId,
            input.modelRef,
            input.modelVersion,
            input.storageUri,
            jsonParam(input.spec),
            input.replicas,
            input.mode,
            input.createdBy,
          ],
        );
        return toRevision(row!);
      };
      return tx ? run(tx) : sql.transaction(run);
    },

    async getById(id: string): Promise<RevisionRow | null> {
      if (!isUuid(id)) return null;
      const [row] = await sql.query<RevisionRecord>(
        `SELECT ${COLUMNS} FROM endpoint_revisions WHERE id = $1`,
        [id],
      );
      return row ? toRevision(row) : null;
    },

    /** Newest first. */
    async listByEndpoint(endpointId: string): Promise<RevisionRow[]> {
      if (!isUuid(endpointId)) return [];
      const rows = await sql.query<RevisionRecord>(
        `SELECT ${COLUMNS} FROM endpoint_revisions WHERE endpoint_id = $1 ORDER BY seq DESC`,
        [endpointId],
      );
      return rows.map(toRevision);
    },

    /** Revisions that take part in routing: a share of the traffic, or a copy of it. */
    async listRouted(endpointId: string): Promise<RevisionRow[]> {
      if (!isUuid(endpointId)) return [];
      const rows = await sql.query<RevisionRecord>(
        `SELECT ${COLUMNS} FROM endpoint_revisions
          WHERE endpoint_id = $1 AND (traffic > 0 OR shadow) ORDER BY seq DESC`,
        [endpointId],
      );
      return rows.map(toRevision);
    },

    async update(id: string, patch: RevisionPatch, tx?: Sql): Promise<RevisionRow | null> {
      if (!isUuid(id)) return null;
      const sets: string[] = [];
      const params: unknown[] = [id];
      const set = (column: string, value: unknown) => {
        params.push(value);
        sets.push(`${column} = $${params.length}`);
      };
      if (patch.state !== undefined) set('state', patch.state);
      if (patch.traffic !== undefined) set('traffic', patch.traffic);
      if (patch.shadow !== undefined) set('shadow', patch.shadow);
      if (patch.message !== undefined) set('message', patch.message);
      if (patch.replicas !== undefined) set('replicas', patch.replicas);
      const q = tx ?? sql;
      const [row] = await q.query<RevisionRecord>(
        `UPDATE endpoint_revisions SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1
         RETURNING ${COLUMNS}`,
        params,
      );
      if (row && (patch.traffic !== undefined || patch.shadow !== undefined))
        await publishChange(q, 'routing', row.endpoint_id);
      return row ? toRevision(row) : null;
    },

    /**
     * Sets the traffic of every revision of the endpoint at once: the revisions named get their share (and
     * shadow flag when given), all others 0 and no shadow. One transaction, so readers never see a sum ≠ 100.
     */
    async setTraffic(
      endpointId: string,
      weights: Record<string, number>,
      shadowId: string | null,
      tx?: Sql,
    ): Promise<RevisionRow[]> {
      const run = async (q: Sql) => {
        await q.query(
          `UPDATE endpoint_revisions SET traffic = 0, shadow = false, updated_at = now()
            WHERE endpoint_id = $1 AND (traffic > 0 OR shadow)`,
          [endpointId],
        );
        for (const [id, share] of Object.entries(weights))
          await q.query(
            `UPDATE endpoint_revisions SET traffic = $3, updated_at = now() WHERE endpoint_id = $1 AND id = $2`,
            [endpointId, id, share],
          );
        if (shadowId)
          await q.query(
            `UPDATE endpoint_revisions SET shadow = true, updated_at = now() WHERE endpoint_id = $1 AND id = $2`,
            [endpointId, shadowId],
          );
        const rows = await q.query<RevisionRecord>(
          `SELECT ${COLUMNS} FROM endpoint_revisions WHERE endpoint_id = $1 ORDER BY seq DESC`,
          [endpointId],
        );
        await publishChange(q, 'routing', endpointId);
        return rows.map(toRevision);
      };
      return tx ? run(tx) : sql.transaction(run);
    },

    async appendEvent(input: AppendEndpointEventInput, tx?: Sql): Promise<EndpointEventRow> {
      const [row] = await (tx ?? sql).query<EventRecord>(
        `INSERT INTO endpoint_events (endpoint_id, revision_id, type, message, detail, actor)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6)
         RETURNING seq, endpoint_id, revision_id, type, message, detail, actor, at`,
        [
          input.endpointId,
          input.revisionId ?? null,
          input.type,
          input.message,
          jsonParam(input.detail ?? {}),
          input.actor,
        ],
      );
      return toEvent(row!);
    },

    async listEvents(endpointId: string, opts: { afterSeq?: number; limit?: number } = {}) {
      if (!isUuid(endpointId)) return [];
      const rows = await sql.query<EventRecord>(
        `SELECT seq, endpoint_id, revision_id, type, message, detail, actor, at FROM endpoint_events
          WHERE endpoint_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [endpointId, opts.afterSeq ?? 0, opts.limit ?? 1000],
      );
      return rows.map(toEvent);
    },

    /** The newest `count` events of an endpoint, oldest first (what a status page shows). */
    async latestEvents(endpointId: string, count: number): Promise<EndpointEventRow[]> {
      if (!isUuid(endpointId)) return [];
      const rows = await sql.query<EventRecord>(
        `SELECT seq, endpoint_id, revision_id, type, message, detail, actor, at FROM endpoint_events
          WHERE endpoint_id = $1 ORDER BY seq DESC LIMIT $2`,
        [endpointId, count],
      );
      return rows.map(toEvent).reverse();
    },
  };
}

export type RevisionsRepository = ReturnType<typeof createRevisionsRepository>;
