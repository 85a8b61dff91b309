export type Dialect = 'pglite' | 'postgres';

/**
 * The only door to the database. `query` runs one statement with `$n` parameters; `exec` runs a
 * parameterless script of several statements (migrations).
 *
 * Transactions are ambient: inside `db.sql.transaction(fn)`, statements sent through `db.sql` (and
 * so through `db.repos`) from fn's async context run in that transaction, exactly like statements
 * sent through the `tx` handle passed to fn. A nested `transaction` call becomes a savepoint.
 */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  exec(script: string): Promise<void>;
  transaction<R>(fn: (tx: Sql) => Promise<R>): Promise<R>;
  /**
   * Calls `onPayload` for each notification on `channel` (sent with `pg_notify`, by any process sharing
   * the database) until the returned function is called. `onReset` is called when notifications may
   * have been missed: the listening connection broke and was opened again. Root handles only.
   */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
    onReset?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
  readonly dialect: Dialect;
}
