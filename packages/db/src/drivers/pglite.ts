import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { DbError, toDbError } from '../errors.ts';
import type { Sql } from '../sql.ts';
import { AmbientSql } from './ambient.ts';
import { runInSavepoint } from './savepoint.ts';
import { SerialQueue } from './serial-queue.ts';

export interface PgliteOptions {
  /** Directory of the database files, created if missing; undefined = in memory. */
  dataDir?: string;
  /** Start from an image made by `dumpDataDir` (e.g. a migrated template) instead of an empty cluster. */
  loadDataDir?: Blob;
}

export async function createPgliteSql(options: PgliteOptions = {}): Promise<Sql> {
  const pg = await openPglite(options);
  return new AmbientSql(new PgliteSql(pg));
}

/**
 * Runs `prepare` on a fresh in-memory database and returns its files as an uncompressed image.
 * Starting from an image skips PGlite's initdb, which takes seconds; tests use it for speed.
 */
export async function createPgliteImage(prepare: (sql: Sql) => Promise<void>): Promise<Blob> {
  const pg = await openPglite({});
  try {
    await prepare(new AmbientSql(new PgliteSql(pg)));
    return await pg.dumpDataDir('none');
  } finally {
    await pg.close();
  }
}

async function openPglite({ dataDir, loadDataDir }: PgliteOptions): Promise<PGlite> {
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    if (!loadDataDir) await initialiseInChild(dataDir);
  }
  const pg = new PGlite({
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(loadDataDir ? { loadDataDir } : {}),
  });
  try {
    await pg.waitReady;
  } catch (error) {
    throw new DbError(`cannot open the embedded database in ${dataDir ?? 'memory'}: ${String(error)}`, {
      code: 'open_failed',
      cause: error,
    });
  }
  return pg;
}

const INIT_SCRIPT = fileURLToPath(new URL('./pglite-init.mjs', import.meta.url));
const INIT_TIMEOUT_MS = 120_000;

/**
 * Runs initdb for an empty data directory in a short-lived child process. In this process it would grow
 * PGlite's WebAssembly memory to ~600 MiB for good; opening an initialised directory takes ~200 MiB.
 */
async function initialiseInChild(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [INIT_SCRIPT, dataDir],
      { timeout: INIT_TIMEOUT_MS, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const detail = stderr.trim().split('\n').slice(-5).join('\n') || error.message;
        reject(
          new DbError(`cannot initialise the embedded database in ${dataDir}: ${detail}`, {
            code: 'open_failed',
            cause: error,
          }),
        );
      },
    );
  });
}

class PgliteSql implements Sql {
  readonly dialect = 'pglite' as const;
  readonly #pg: PGlite;
  readonly #queue = new SerialQueue();
  #closed = false;

  constructor(pg: PGlite) {
    this.#pg = pg;
  }

  async query<T>(text: string, params?: unknown[]): Promise<T[]> {
    this.#assertUsable('query');
    return this.#queue.run(async () => {
      try {
        return (await this.#pg.query<T>(text, params)).rows;
      } catch (error) {
        throw toDbError(error);
      }
    });
  }

  async exec(script: string): Promise<void> {
    this.#assertUsable('exec');
    await this.#queue.run(async () => {
      try {
        await this.#pg.exec(script);
      } catch (error) {
        throw toDbError(error);
      }
    });
  }

  async transaction<R>(fn: (tx: Sql) => Promise<R>): Promise<R> {
    this.#assertUsable('transaction');
    return this.#queue.run(async () => {
      const fromCallback = new WeakSet<object>();
      try {
        return await this.#pg.transaction(async (tx) => {
          try {
            return await fn(new PgliteTransaction(tx));
          } catch (error) {
            if (typeof error === 'object' && error !== null) fromCallback.add(error);
            throw error;
          }
        });
      } catch (error) {
        // The callback's own errors pass through unchanged; BEGIN/COMMIT failures are mapped.
        const own = typeof error === 'object' && error !== null && fromCallback.has(error);
        throw own ? error : toDbError(error);
      }
    });
  }

  /** One process owns an embedded database, so a connection never breaks and onReset is never called. */
  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    this.#assertUsable('listen');
    const unlisten = await this.#queue.run(async () => {
      try {
        return await this.#pg.listen(channel, onPayload);
      } catch (error) {
        throw toDbError(error);
      }
    });
    return async () => {
      if (!this.#closed) await this.#queue.run(() => unlisten());
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.run(() => this.#pg.close());
  }

  #assertUsable(operation: string): void {
    if (this.#closed) throw new DbError(`cannot ${operation}: the database is closed`, { code: 'closed' });
  }
}

class PgliteTransaction implements Sql {
  readonly dialect = 'pglite' as const;
  readonly #tx: Transaction;

  constructor(tx: Transaction) {
    this.#tx = tx;
  }

  async query<T>(text: string, params?: unknown[]): Promise<T[]> {
    this.#assertOpen();
    try {
      return (await this.#tx.query<T>(text, params)).rows;
    } catch (error) {
      throw toDbError(error);
    }
  }

  async exec(script: string): Promise<void> {
    this.#assertOpen();
    try {
      await this.#tx.exec(script);
    } catch (error) {
      throw toDbError(error);
    }
  }

  transaction<R>(fn: (tx: Sql) => Promise<R>): Promise<R> {
    return runInSavepoint(this, fn);
  }

  listen(): Promise<() => Promise<void>> {
    return Promise.reject(new DbError('a transaction handle cannot listen', { code: 'misuse' }));
  }

  close(): Promise<void> {
    return Promise.reject(new DbError('a transaction handle cannot be closed', { code: 'misuse' }));
  }

  #assertOpen(): void {
    if (this.#tx.closed) {
      throw new DbError('this transaction has already ended; its handle cannot be used', {
        code: 'tx_closed',
      });
    }
  }
}

/** The installed PGlite version; its package.json is not exported, so it is read from disk. */
export async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? 'unknown';
}
