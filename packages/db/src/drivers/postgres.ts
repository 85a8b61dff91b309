import pg from 'pg';
import { DbError, toDbError } from '../errors.ts';
import type { Sql } from '../sql.ts';
import { AmbientSql } from './ambient.ts';
import { runInSavepoint } from './savepoint.ts';

export interface PostgresOptions {
  url: string;
  /** Schema to create if missing and put alone on every connection's search_path. */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
  /** Called when an idle pooled connection breaks; the pool drops it and reconnects on demand. */
  onIdleError?: (error: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function createPostgresSql(options: PostgresOptions): Promise<Sql> {
  const { url, schema, max = 10 } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new DbError(
      `schema "${schema}" is not allowed: use lower-case letters, digits and underscores (max 63, not starting with a digit)`,
      { code: 'invalid_schema' },
    );
  }
  if (!Number.isInteger(max) || max < 1) {
    throw new DbError(`max must be a positive integer, got ${String(max)}`, { code: 'invalid_pool_size' });
  }
  const pool = new pg.Pool({
    connectionString: url,
    max,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // Without a listener, a connection dropped while idle would crash the whole process.
  pool.on('error', (error) => options.onIdleError?.(error));
  const sql = new AmbientSql(new PostgresSql(pool));
  try {
    // Fail at startup, with the driver's message, rather than on the first request.
    if (schema !== undefined) await createSchemaIfMissing(sql, schema);
    else await sql.query('SELECT 1');
  } catch (error) {
    await sql.close();
    throw error;
  }
  return sql;
}

async function createSchemaIfMissing(sql: Sql, schema: string): Promise<void> {
  try {
    await sql.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Two processes creating the same schema at once can still collide on the catalog's unique index.
    if (toDbError(error).code !== '23505') throw error;
  }
}

class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async query<T>(text: string, params?: unknown[]): Promise<T[]> {
    this.#assertOpen('query');
    try {
      return (await this.#pool.query(text, params)).rows as T[];
    } catch (error) {
      throw toDbError(error);
    }
  }

  async exec(script: string): Promise<void> {
    this.#assertOpen('exec');
    try {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await this.#pool.query(script);
    } catch (error) {
      throw toDbError(error);
    }
  }

  async transaction<R>(fn: (tx: Sql) => Promise<R>): Promise<R> {
    this.#assertOpen('transaction');
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toDbError(error);
    }
    const tx = new PostgresTransaction(client);
    let broken: Error | undefined;
    try {
      await tx.query('BEGIN');
      const result = await fn(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      tx.end();
      // A connection whose ROLLBACK failed is in an unknown state: destroy it instead of reusing it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new DbError(`cannot ${operation}: the database is closed`, { code: 'closed' });
  }
}

class PostgresTransaction implements Sql {
  readonly dialect = 'postgres' as const;
  readonly #client: pg.PoolClient;
  #ended = false;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  end(): void {
    this.#ended = true;
  }

  async query<T>(text: string, params?: unknown[]): Promise<T[]> {
    this.#assertOpen();
    try {
      return (await this.#client.query(text, params)).rows as T[];
    } catch (error) {
      throw toDbError(error);
    }
  }

  async exec(script: string): Promise<void> {
    this.#assertOpen();
    try {
      await this.#client.query(script);
    } catch (error) {
      throw toDbError(error);
    }
  }

  transaction<R>(fn: (tx: Sql) => Promise<R>): Promise<R> {
    return runInSavepoint(this, fn);
  }

  close(): Promise<void> {
    return Promise.reject(new DbError('a transaction handle cannot be closed', { code: 'misuse' }));
  }

  #assertOpen(): void {
    if (this.#ended) {
      throw new DbError('this transaction has already ended; its handle cannot be used', {
        code: 'tx_closed',
      });
    }
  }
}
