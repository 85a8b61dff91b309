import { randomUUID } from 'node:crypto';
import { auditHash, GENESIS_HASH, normaliseDetail } from '../audit-chain.ts';
import type { AuditFields } from '../audit-chain.ts';
import { isUuid, jsonParam, selectPage, toIso, toNumber, Where } from '../rows.ts';
import type { ListResult, Page } from '../rows.ts';
import type { Sql } from '../sql.ts';

export interface AuditRow extends AuditFields {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AppendAuditInput {
  actor: string;
  projectId?: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  requestHash?: string | null;
  result: 'success' | 'error';
  statusCode: number;
  detail?: Record<string, unknown>;
}

export interface ListAuditFilter extends Page {
  projectId?: string;
  action?: string;
  actor?: string;
  /** Inclusive lower bound on `at`. */
  since?: string | Date;
  /** Exclusive upper bound on `at`. */
  until?: string | Date;
}

export interface AuditVerification {
  ok: boolean;
  /** Rows found intact, in seq order, before the first broken one (all rows when ok). */
  checked: number;
  firstBrokenSeq: number | null;
  reason: string | null;
}

interface AuditRecord {
  seq: string | number;
  id: string;
  at: Date;
  actor: string;
  project_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_hash: string | null;
  result: 'success' | 'error';
  status_code: number;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const COLUMNS =
  'seq, id, at, actor, project_id, action, target_type, target_id, request_hash, result, status_code, detail, prev_hash, hash';

// Appends from every process queue on this lock, so each one reads the true last hash.
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('llmops:audit'), hashtext(coalesce(current_schema(), '')))`;

const VERIFY_BATCH = 500;

function toAudit(r: AuditRecord): AuditRow {
  return {
    seq: toNumber(r.seq),
    id: r.id,
    at: toIso(r.at),
    actor: r.actor,
    projectId: r.project_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    requestHash: r.request_hash,
    result: r.result,
    statusCode: r.status_code,
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function fieldsOf(row: AuditRow): AuditFields {
  const { seq: _seq, prevHash: _prev, hash: _hash, ...fields } = row;
  return fields;
}

function checkInput(input: AppendAuditInput): void {
  if (input.result !== 'success' && input.result !== 'error') {
    throw new RangeError(`result must be "success" or "error", got "${String(input.result)}"`);
  }
  if (!Number.isInteger(input.statusCode)) {
    throw new RangeError(`statusCode must be an integer, got ${String(input.statusCode)}`);
  }
}

/** Appends entries in order under the chain lock, each linked to the one before. */
async function appendIn(db: Sql, inputs: readonly AppendAuditInput[]): Promise<AuditRow[]> {
  inputs.forEach(checkInput);
  await db.query(LOCK);
  const [last] = await db.query<{ hash: string }>('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  let prevHash = last?.hash ?? GENESIS_HASH;
  const rows: AuditRow[] = [];
  for (const input of inputs) {
    // Taken under the lock so that `at` never goes backwards along the chain on one machine.
    const fields: AuditFields = {
      id: randomUUID(),
      at: new Date().toISOString(),
      actor: input.actor,
      projectId: input.projectId ?? null,
      action: input.action,
      targetType: input.targetType,
      targetId: input.targetId ?? null,
      requestHash: input.requestHash ?? null,
      result: input.result,
      statusCode: input.statusCode,
      detail: normaliseDetail(input.detail),
    };
    const hash = auditHash(prevHash, fields);
    const [row] = await db.query<AuditRecord>(
      `INSERT INTO audit_log (id, at, actor, project_id, action, target_type, target_id, request_hash, result,
         status_code, detail, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13) RETURNING ${COLUMNS}`,
      [
        fields.id,
        fields.at,
        fields.actor,
        fields.projectId,
        fields.action,
        fields.targetType,
        fields.targetId,
        fields.requestHash,
        fields.result,
        fields.statusCode,
        jsonParam(fields.detail),
        prevHash,
        hash,
      ],
    );
    rows.push(toAudit(row!));
    prevHash = hash;
  }
  return rows;
}

/** First problem in one row given the hash the chain expects before it, or null when intact. */
function checkRow(row: AuditRow, expectedPrev: string): string | null {
  if (row.prevHash !== expectedPrev) {
    return `prev_hash of seq ${row.seq} does not match the hash of the row before it`;
  }
  if (auditHash(row.prevHash, fieldsOf(row)) !== row.hash) {
    return `hash of seq ${row.seq} does not match its content`;
  }
  return null;
}

export function createAuditRepository(sql: Sql) {
  return {
    /** Appends one entry to the chain; pass `tx` to make it part of a caller's transaction. */
    async append(input: AppendAuditInput, tx?: Sql): Promise<AuditRow> {
      const [row] = tx ? await appendIn(tx, [input]) : await sql.transaction((t) => appendIn(t, [input]));
      return row!;
    },

    /** Appends several entries in one transaction (one commit), in the order given. */
    async appendMany(inputs: readonly AppendAuditInput[]): Promise<AuditRow[]> {
      if (inputs.length === 0) return [];
      return sql.transaction((t) => appendIn(t, inputs));
    },

    /** Newest first. */
    async list(filter: ListAuditFilter): Promise<ListResult<AuditRow>> {
      const where = new Where();
      if (filter.projectId !== undefined)
        where.add('project_id = $?', isUuid(filter.projectId) ? filter.projectId : null);
      if (filter.action) where.add('action = $?', filter.action);
      if (filter.actor) where.add('actor = $?', filter.actor);
      if (filter.since !== undefined) where.add('at >= $?', toIso(filter.since));
      if (filter.until !== undefined) where.add('at < $?', toIso(filter.until));
      return selectPage(
        sql,
        { columns: COLUMNS, from: 'audit_log', where, orderBy: 'seq DESC', page: filter },
        toAudit,
      );
    },

    /** Walks the whole chain in seq order, recomputing every hash and checking every link. */
    async verify(): Promise<AuditVerification> {
      let expectedPrev = GENESIS_HASH;
      let checked = 0;
      let afterSeq = 0;
      for (;;) {
        const rows = await sql.query<AuditRecord>(
          `SELECT ${COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT ${VERIFY_BATCH}`,
          [afterSeq],
        );
        for (const record of rows) {
          const row = toAudit(record);
          const reason = checkRow(row, expectedPrev);
          if (reason) return { ok: false, checked, firstBrokenSeq: row.seq, reason };
          expectedPrev = row.hash;
          checked += 1;
          afterSeq = row.seq;
        }
        if (rows.length < VERIFY_BATCH) return { ok: true, checked, firstBrokenSeq: null, reason: null };
      }
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
