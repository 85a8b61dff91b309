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
  const connection = {
    connectionString: url,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
  const pool = new pg.Pool({ ...connection, max });
  // Without a listener, a connection dropped while idle would crash the whole process.
  pool.on('error', (error) => options.onIdleError?.(error));
  const sql = new AmbientSql(new PostgresSql(pool, connection));
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

/** LISTEN takes an identifier; channels are ours, but a bad one must fail clearly, not as SQL. */
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const RELISTEN_MAX_DELAY_MS = 5000;

class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #connection: pg.ClientConfig;
  readonly #listeners = new Set<() => Promise<void>>();
  #closed = false;

  constructor(pool: pg.Pool, connection: pg.ClientConfig) {
    this.#pool = pool;
    this.#connection = connection;
  }

  /**
   * A dedicated connection (LISTEN is per session, so not from the pool). When it breaks it is opened
   * again with a growing delay, and `onReset` tells the listener that notifications may have been missed.
   */
  async listen(
    channel: string,
    onPayload: (payload: string) => void,
    onReset?: () => void,
  ): Promise<() => Promise<void>> {
    this.#assertOpen('listen');
    if (!CHANNEL_NAME.test(channel))
      throw new DbError(`cannot listen on "${channel}": use lower-case letters, digits and underscores`, {
        code: 'invalid_channel',
      });
    let stopped = false;
    let client: pg.Client | null = null;
    let timer: NodeJS.Timeout | undefined;
    const connect = async () => {
      const c = new pg.Client(this.#connection);
      c.on('notification', (n) => {
        if (n.channel === channel && n.payload !== undefined) onPayload(n.payload);
      });
      // A broken connection emits 'error' then 'end'; 'end' opens a new one.
      c.on('error', () => undefined);
      c.on('end', () => {
        if (client !== c || stopped) return;
        client = null;
        reconnect(0);
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${channel}`);
      } catch (error) {
        await c.end().catch(() => undefined);
        throw toDbError(error);
      }
      if (stopped) await c.end().catch(() => undefined);
      else client = c;
    };
    const reconnect = (attempt: number) => {
      timer = setTimeout(
        () => {
          connect().then(
            () => {
              if (!stopped) onReset?.();
            },
            () => {
              if (!stopped) reconnect(attempt + 1);
            },
          );
        },
        Math.min(RELISTEN_MAX_DELAY_MS, 100 * 2 ** attempt),
      );
      timer.unref();
    };
    await connect();
    const stop = async () => {
      stopped = true;
      clearTimeout(timer);
      this.#listeners.delete(stop);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    };
    this.#listeners.add(stop);
    return stop;
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
    await Promise.all([...this.#listeners].map((stop) => stop()));
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

  listen(): Promise<() => Promise<void>> {
    return Promise.reject(new DbError('a transaction handle cannot listen', { code: 'misuse' }));
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
