import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { DbError } from './errors.ts';
import type { Sql } from './sql.ts';

export interface Migration {
  /** File name without `.sql`, e.g. `0001_init`; ordering is by this string. */
  version: string;
  sql: string;
  /** sha256 of the file with line endings normalised, so a CRLF checkout does not look edited. */
  checksum: string;
}

export interface AppliedMigration {
  version: string;
  checksum: string;
}

export const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);

const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads `NNNN_name.sql` files in order; any other `.sql` name or a reused number is an error. */
export async function loadMigrations(dir: URL | string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  const seen = new Map<string, string>();
  const migrations: Migration[] = [];
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (!match?.[1]) {
      throw new DbError(`migration file "${name}" must be named NNNN_lower_snake_case.sql`, {
        code: 'migration_name',
      });
    }
    const other = seen.get(match[1]);
    if (other) {
      throw new DbError(`migration files "${other}" and "${name}" share the number ${match[1]}`, {
        code: 'migration_name',
      });
    }
    seen.set(match[1], name);
    const sql = await readFile(new URL(name, toDirUrl(dir)), 'utf8');
    migrations.push({ version: name.slice(0, -'.sql'.length), sql, checksum: checksumOf(sql) });
  }
  return migrations;
}

function toDirUrl(dir: URL | string): URL {
  if (dir instanceof URL) return dir;
  return pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`);
}

/**
 * Checks what the database has already applied against the files and returns what is pending.
 * Refuses an edited applied migration and a database that is ahead of this code.
 */
export function pendingMigrations(applied: AppliedMigration[], migrations: Migration[]): Migration[] {
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of applied) {
    const file = known.get(row.version);
    if (!file) {
      throw new DbError(
        `the database has migration ${row.version}, which this version of the platform does not know; ` +
          'run a platform version that includes it',
        { code: 'migration_unknown' },
      );
    }
    if (file.checksum !== row.checksum) {
      throw new DbError(
        `migration ${row.version} was changed after it was applied (checksum ${row.checksum.slice(0, 12)} ` +
          `in the database, ${file.checksum.slice(0, 12)} in the file); restore the original file and put ` +
          'the change in a new migration',
        { code: 'migration_checksum' },
      );
    }
  }
  const done = new Set(applied.map((row) => row.version));
  const pending = migrations.filter((m) => !done.has(m.version));
  const latest = applied
    .map((row) => row.version)
    .sort()
    .at(-1);
  const late = latest === undefined ? undefined : pending.find((m) => m.version < latest);
  if (late && latest) {
    // Applying it now would run it after migrations that were written assuming it did not exist.
    throw new DbError(
      `migration ${late.version} sorts before ${latest}, which is already applied; give it a number after ${latest}`,
      { code: 'migration_order' },
    );
  }
  return pending;
}

// Two int keys: a fixed namespace and the schema, so test schemas in one database migrate in parallel.
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('llmops:migrate'), hashtext(coalesce(current_schema(), '')))`;

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version text PRIMARY KEY,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Applies pending migrations, each in its own transaction holding an advisory lock, so that
 * processes migrating at the same time apply each file exactly once and wait for each other.
 */
export async function migrate(sql: Sql, migrations: Migration[]): Promise<{ applied: string[] }> {
  const applied: string[] = [];
  for (;;) {
    const version = await sql.transaction(async (tx) => {
      await tx.query(LOCK);
      await tx.query(CREATE_HISTORY);
      const history = await tx.query<AppliedMigration>(
        'SELECT version, checksum FROM schema_migrations ORDER BY version',
      );
      const next = pendingMigrations(history, migrations)[0];
      if (!next) return null;
      try {
        await tx.exec(next.sql);
      } catch (error) {
        throw new DbError(`migration ${next.version} failed: ${(error as Error).message}`, {
          code: 'migration_failed',
          cause: error,
        });
      }
      await tx.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [
        next.version,
        next.checksum,
      ]);
      return next.version;
    });
    if (version === null) return { applied };
    applied.push(version);
  }
}
