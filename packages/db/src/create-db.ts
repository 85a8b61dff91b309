import { createHash } from 'node:crypto';
import { createPgliteImage, createPgliteSql, pgliteVersion } from './drivers/pglite.ts';
import { createPostgresSql } from './drivers/postgres.ts';
import { createChangeFeed, type ChangeFeed } from './changes.ts';
import { loadMigrations, migrate } from './migrations.ts';
import { createRepositories } from './repositories/index.ts';
import type { Repositories } from './repositories/index.ts';
import type { Sql } from './sql.ts';

export type DbOptions =
  | {
      kind: 'pglite';
      /** undefined = in memory */
      dataDir?: string;
      /** Start from an image made by `createMigratedPgliteImage` instead of an empty database. */
      loadDataDir?: Blob;
    }
  | { kind: 'postgres'; url: string; schema?: string; max?: number; onIdleError?: (error: Error) => void };

export interface Db {
  sql: Sql;
  repos: Repositories;
  /** Changes made by any process sharing the database, for the caches of the request path. */
  changes: ChangeFeed;
  /** Applies pending migrations; the platform calls it at boot and `llmops db migrate` on demand. */
  migrate(): Promise<{ applied: string[] }>;
  close(): Promise<void>;
}

/** Opens the database; it does not migrate. */
export async function createDb(options: DbOptions): Promise<Db> {
  const sql = options.kind === 'pglite' ? await createPgliteSql(options) : await createPostgresSql(options);
  const changes = createChangeFeed(sql);
  return {
    sql,
    repos: createRepositories(sql),
    changes,
    migrate: async () => migrate(sql, await loadMigrations()),
    close: async () => {
      await changes.close();
      await sql.close();
    },
  };
}

/** An in-memory PGlite database with all migrations applied, as an image for `loadDataDir`. */
export async function createMigratedPgliteImage(): Promise<Blob> {
  const migrations = await loadMigrations();
  return createPgliteImage(async (sql) => void (await migrate(sql, migrations)));
}

/** Changes whenever the image from `createMigratedPgliteImage` would differ (migrations or PGlite). */
export async function migratedPgliteImageKey(): Promise<string> {
  const migrations = await loadMigrations();
  const parts = [await pgliteVersion(), ...migrations.map((m) => `${m.version}:${m.checksum}`)];
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}
