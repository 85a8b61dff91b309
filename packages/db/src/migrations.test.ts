import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checksumOf, loadMigrations, pendingMigrations } from './migrations.ts';
import type { Migration } from './migrations.ts';

const m = (version: string, sql = `SELECT '${version}';`): Migration => ({
  version,
  sql,
  checksum: checksumOf(sql),
});

describe('pendingMigrations', () => {
  const files = [m('0001_init'), m('0002_more'), m('0003_last')];

  it('returns the files not yet applied, in order', () => {
    const applied = [{ version: '0001_init', checksum: files[0]!.checksum }];
    expect(pendingMigrations(applied, files).map((x) => x.version)).toEqual(['0002_more', '0003_last']);
    expect(pendingMigrations([], files)).toHaveLength(3);
  });

  it('refuses an applied migration whose file was edited', () => {
    const applied = [{ version: '0001_init', checksum: checksumOf('SELECT 0;') }];
    expect(() => pendingMigrations(applied, files)).toThrow(
      /migration 0001_init was changed after it was applied/,
    );
  });

  it('refuses a database that has a migration this code does not know', () => {
    const applied = [{ version: '0009_future', checksum: 'x' }];
    expect(() => pendingMigrations(applied, files)).toThrow(/has migration 0009_future, which this version/);
  });

  it('refuses a new file numbered before an applied one', () => {
    const applied = [
      { version: '0001_init', checksum: files[0]!.checksum },
      { version: '0003_last', checksum: files[2]!.checksum },
    ];
    expect(() => pendingMigrations(applied, files)).toThrow(/0002_more sorts before 0003_last/);
  });
});

describe('checksumOf', () => {
  it('ignores CRLF versus LF line endings but not content', () => {
    expect(checksumOf('a;\r\nb;\r\n')).toBe(checksumOf('a;\nb;\n'));
    expect(checksumOf('a;\nb;\n')).not.toBe(checksumOf('a;\nc;\n'));
  });
});

describe('loadMigrations', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads the shipped migrations starting with 0001_init', async () => {
    const migrations = await loadMigrations();
    expect(migrations[0]?.version).toBe('0001_init');
    expect(migrations[0]?.sql).toContain('CREATE TABLE audit_log');
  });

  it('refuses a file that does not follow the naming scheme', async () => {
    dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    await writeFile(join(dir, '0001_init.sql'), 'SELECT 1;');
    await writeFile(join(dir, 'fix.sql'), 'SELECT 2;');
    await expect(loadMigrations(dir)).rejects.toThrow(/"fix.sql" must be named NNNN_lower_snake_case.sql/);
  });

  it('refuses two files with the same number', async () => {
    dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    await writeFile(join(dir, '0001_a.sql'), 'SELECT 1;');
    await writeFile(join(dir, '0001_b.sql'), 'SELECT 2;');
    await expect(loadMigrations(dir)).rejects.toThrow(/share the number 0001/);
  });
});
