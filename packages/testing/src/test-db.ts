import { randomBytes } from 'node:crypto';
import { createDb } from '@llmops/db';
import type { Db } from '@llmops/db';
import { discardMigratedImage, migratedImage } from './pglite-image.ts';

export type TestDb = Db & { cleanup(): Promise<void> };

/** Which database the integration tests run on: PostgreSQL when DATABASE_URL is set, else PGlite. */
export function testDbKind(): 'pglite' | 'postgres' {
  return process.env.DATABASE_URL ? 'postgres' : 'pglite';
}

/**
 * A migrated, empty database of its own: an in-memory PGlite, or a fresh schema `t_<random>` in the
 * PostgreSQL database at DATABASE_URL (so test files can run in parallel against one server).
 * `cleanup` closes it and, on PostgreSQL, drops the schema.
 */
export async function createTestDb(): Promise<TestDb> {
  const url = process.env.DATABASE_URL;
  return url ? createPostgresTestDb(url) : createPgliteTestDb();
}

async function createPgliteTestDb(): Promise<TestDb> {
  let db: Db;
  try {
    db = await createDb({ kind: 'pglite', loadDataDir: await migratedImage() });
  } catch {
    // A cached image left by an older build can be unreadable; build a new one once.
    await discardMigratedImage();
    db = await createDb({ kind: 'pglite', loadDataDir: await migratedImage() });
  }
  await migrateOrClose(db, () => db.close());
  return { ...db, cleanup: () => db.close() };
}

async function createPostgresTestDb(url: string): Promise<TestDb> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = await createDb({ kind: 'postgres', url, schema });
  const cleanup = async (): Promise<void> => {
    try {
      await db.sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await db.close();
    }
  };
  await migrateOrClose(db, cleanup);
  return { ...db, cleanup };
}

async function migrateOrClose(db: Db, cleanup: () => Promise<void>): Promise<void> {
  try {
    await db.migrate();
  } catch (error) {
    await cleanup();
    throw error;
  }
}
