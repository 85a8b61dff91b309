import { createTestDb, seedProject, testDbKind } from '@llmops/testing';
import type { TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, DbError, isConflictError } from '../errors.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`sql driver (${testDbKind()})`, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.cleanup();
  });

  const countOrgs = async (slug: string) =>
    (
      await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations WHERE slug = $1', [
        slug,
      ])
    )[0]!.n;

  it('commits a transaction and rolls it back when the callback throws', async () => {
    await db.sql.transaction((tx) =>
      tx.query("INSERT INTO organisations (id, slug, name) VALUES (gen_random_uuid(), 'kept', 'k')"),
    );
    const failing = db.sql.transaction(async (tx) => {
      await tx.query("INSERT INTO organisations (id, slug, name) VALUES (gen_random_uuid(), 'dropped', 'd')");
      throw new Error('callback failed');
    });
    await expect(failing).rejects.toThrow('callback failed');
    expect(await countOrgs('kept')).toBe(1);
    expect(await countOrgs('dropped')).toBe(0);
  });

  it('runs repository calls made through db.repos inside db.sql.transaction in that transaction', async () => {
    const attempt = db.sql.transaction(async () => {
      await db.repos.orgs.create({ slug: 'ambient', name: 'Ambient' });
      expect(await db.repos.orgs.getBySlug('ambient')).not.toBeNull();
      throw new Error('undo');
    });
    await expect(attempt).rejects.toThrow('undo');
    expect(await db.repos.orgs.getBySlug('ambient')).toBeNull();
  });

  it('turns a nested transaction into a savepoint', async () => {
    await db.sql.transaction(async (tx) => {
      await db.repos.orgs.create({ slug: 'outer', name: 'Outer' });
      await expect(
        tx.transaction(async () => {
          await db.repos.orgs.create({ slug: 'inner', name: 'Inner' });
          throw new Error('inner failed');
        }),
      ).rejects.toThrow('inner failed');
    });
    expect(await countOrgs('outer')).toBe(1);
    expect(await countOrgs('inner')).toBe(0);
  });

  it('never lets a concurrent statement see or join an open transaction', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tx = db.sql.transaction(async (t) => {
      await t.query("INSERT INTO organisations (id, slug, name) VALUES (gen_random_uuid(), 'isolated', 'i')");
      await gate;
      throw new Error('roll back');
    });
    await tick(20);
    const outside = countOrgs('isolated');
    await tick(20);
    release();
    await expect(tx).rejects.toThrow('roll back');
    expect(await outside).toBe(0);
  });

  it('maps a unique violation to ConflictError naming the constraint', async () => {
    await db.repos.orgs.create({ slug: 'dup', name: 'A' });
    const error = await db.repos.orgs.create({ slug: 'dup', name: 'B' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(isConflictError(error)).toBe(true);
    expect((error as ConflictError).constraint).toBe('organisations_slug_key');
  });

  it('reports other database errors as DbError with the SQLSTATE', async () => {
    const error = await db.sql.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbError);
    expect((error as DbError).code).toBe('42P01');
  });

  it('refuses a transaction handle used after the transaction ended', async () => {
    const { project } = await seedProject(db);
    const leaked = await db.sql.transaction(async (tx) => tx);
    await expect(leaked.query('SELECT id FROM projects WHERE id = $1', [project.id])).rejects.toThrow(
      /transaction has already ended/,
    );
  });

  it('reports the dialect it runs on', () => {
    expect(db.sql.dialect).toBe(testDbKind());
  });
});
