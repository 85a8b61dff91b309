import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb } from '../create-db.ts';

// Always embedded PGlite, whichever database the rest of the tier runs on.
describe('embedded PGlite on disk', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates the data directory and keeps data across a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmops-db-'));
    const dataDir = join(dir, 'nested', 'pgdata');
    const first = await createDb({ kind: 'pglite', dataDir });
    await first.migrate();
    await first.repos.orgs.create({ slug: 'persisted', name: 'Persisted' });
    await first.close();

    const second = await createDb({ kind: 'pglite', dataDir });
    try {
      expect(await second.migrate()).toEqual({ applied: [] });
      expect((await second.repos.orgs.getBySlug('persisted'))?.name).toBe('Persisted');
    } finally {
      await second.close();
    }
  });

  it('initialises a fresh data directory in a child process, so this process never runs initdb', async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmops-db-'));
    const dataDir = join(dir, 'pgdata');
    const before = process.memoryUsage().external;
    const db = await createDb({ kind: 'pglite', dataDir });
    try {
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
      // initdb in this process would grow PGlite's memory to ~600 MiB; opening an initialised cluster
      // stays near 200 MiB.
      expect(process.memoryUsage().external - before).toBeLessThan(400 * 2 ** 20);
      await db.migrate();
    } finally {
      await db.close();
    }
  });

  it('names the directory when it cannot be initialised', async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmops-db-'));
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'not a directory');
    await expect(createDb({ kind: 'pglite', dataDir: join(blocker, 'pgdata') })).rejects.toThrow(
      join(blocker, 'pgdata'),
    );
  });

  it('refuses statements after close with a clear error', async () => {
    const db = await createDb({ kind: 'pglite' });
    await db.close();
    await expect(db.sql.query('SELECT 1')).rejects.toThrow('cannot query: the database is closed');
  });
});
