import { randomUUID } from 'node:crypto';
import { toIso, toNumber } from '../rows.ts';
import type { Sql } from '../sql.ts';

export type AliasMoveKind = 'promote' | 'rollback';

export interface AliasMoveRow {
  seq: number;
  id: string;
  projectId: string;
  modelName: string;
  alias: string;
  kind: AliasMoveKind;
  fromVersion: string | null;
  toVersion: string;
  /** For a rollback: the promote it undid. */
  revertsId: string | null;
  actor: string;
  at: string;
}

export interface AppendAliasMoveInput {
  projectId: string;
  modelName: string;
  alias: string;
  kind: AliasMoveKind;
  fromVersion: string | null;
  toVersion: string;
  revertsId?: string | null;
  actor: string;
}

interface AliasMoveRecord {
  seq: string | number;
  id: string;
  project_id: string;
  model_name: string;
  alias: string;
  kind: AliasMoveKind;
  from_version: string | null;
  to_version: string;
  reverts_id: string | null;
  actor: string;
  at: Date;
}

const COLUMNS =
  'seq, id, project_id, model_name, alias, kind, from_version, to_version, reverts_id, actor, at';

function toMove(r: AliasMoveRecord): AliasMoveRow {
  return {
    seq: toNumber(r.seq),
    id: r.id,
    projectId: r.project_id,
    modelName: r.model_name,
    alias: r.alias,
    kind: r.kind,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    revertsId: r.reverts_id,
    actor: r.actor,
    at: toIso(r.at),
  };
}

/** The history of stage alias moves on MLflow registered models (migration 0003). */
export function createRegistryRepository(sql: Sql) {
  return {
    /**
     * Runs `fn` in a transaction that holds a lock on one alias of one model, across processes: moves of
     * the same alias queue behind each other, so each reads the alias and the history as the last move
     * left them. Repository calls made inside `fn` join the transaction.
     */
    async withAliasLock<R>(modelName: string, alias: string, fn: () => Promise<R>): Promise<R> {
      return sql.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('llmops:registry:' || $2), hashtext($1))`, [
          modelName,
          alias,
        ]);
        return fn();
      });
    },

    async appendMove(input: AppendAliasMoveInput): Promise<AliasMoveRow> {
      const [row] = await sql.query<AliasMoveRecord>(
        `INSERT INTO registry_alias_moves (id, project_id, model_name, alias, kind, from_version, to_version,
           reverts_id, actor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          input.projectId,
          input.modelName,
          input.alias,
          input.kind,
          input.fromVersion,
          input.toVersion,
          input.revertsId ?? null,
          input.actor,
        ],
      );
      return toMove(row!);
    },

    /** Every move of one alias (or of all aliases) of a model, oldest first. */
    async history(modelName: string, alias?: string): Promise<AliasMoveRow[]> {
      const rows = await sql.query<AliasMoveRecord>(
        `SELECT ${COLUMNS} FROM registry_alias_moves WHERE model_name = $1 AND ($2::text IS NULL OR alias = $2)
         ORDER BY seq`,
        [modelName, alias ?? null],
      );
      return rows.map(toMove);
    },
  };
}

export type RegistryRepository = ReturnType<typeof createRegistryRepository>;
