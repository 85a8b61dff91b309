import { randomBytes } from 'node:crypto';
import { createTestDb, testDbKind } from '@llmops/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb } from './create-db.ts';
import type { Db } from './create-db.ts';
import { loadMigrations } from './migrations.ts';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (opened.length > 0) await opened.pop()!.close();
});

/** Two un-migrated handles on the same empty database (same schema on PostgreSQL). */
async function twoFreshHandles(): Promise<[Db, Db, () => Promise<void>]> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await createDb({ kind: 'pglite' });
    opened.push(db);
    return [db, db, async () => {}];
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const a = await createDb({ kind: 'postgres', url, schema });
  const b = await createDb({ kind: 'postgres', url, schema, max: 2 });
  opened.push(b, a);
  return [a, b, async () => void (await a.sql.query(`DROP SCHEMA "${schema}" CASCADE`))];
}

describe(`migrations (${testDbKind()})`, () => {
  it('apply every file once and record it with its checksum; a second run applies nothing', async () => {
    const [db, , drop] = await twoFreshHandles();
    const files = await loadMigrations();
    const first = await db.migrate();
    expect(first.applied).toEqual(files.map((f) => f.version));
    expect(await db.migrate()).toEqual({ applied: [] });
    const rows = await db.sql.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    expect(rows).toEqual(files.map((f) => ({ version: f.version, checksum: f.checksum })));
    await drop();
  });

  it('run concurrently from two handles, each file is applied exactly once', async () => {
    const [a, b, drop] = await twoFreshHandles();
    const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
    const files = (await loadMigrations()).map((f) => f.version);
    expect([...ra.applied, ...rb.applied].sort()).toEqual(files);
    const [count] = await a.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(count?.n).toBe(files.length);
    await drop();
  });

  it('refuse to run when an applied migration was edited', async () => {
    const db = await createTestDb();
    try {
      await db.sql.query(
        "UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = '0001_init'",
      );
      await expect(db.migrate()).rejects.toThrow(/migration 0001_init was changed after it was applied/);
    } finally {
      await db.cleanup();
    }
  });

  it('create the append-only audit table with its triggers', async () => {
    const db = await createTestDb();
    try {
      const triggers = await db.sql.query<{ tgname: string }>(
        `SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal ORDER BY tgname`,
      );
      expect(triggers.map((t) => t.tgname)).toEqual(['audit_log_no_truncate', 'audit_log_no_update_delete']);
    } finally {
      await db.cleanup();
    }
  });
});
