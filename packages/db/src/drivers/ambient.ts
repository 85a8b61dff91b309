import { AsyncLocalStorage } from 'node:async_hooks';
import type { Sql } from '../sql.ts';

/**
 * Makes transactions ambient: while `transaction(fn)` runs, every statement sent through this handle
 * from fn's async context goes to that transaction. Repositories bound to the root handle therefore
 * join a caller's transaction without a `tx` being threaded through every call, and on PGlite (one
 * connection behind a queue) such a call cannot deadlock by waiting for the transaction it is part of.
 */
export class AmbientSql implements Sql {
  readonly #base: Sql;
  readonly #current = new AsyncLocalStorage<Sql>();

  constructor(base: Sql) {
    this.#base = base;
  }

  get dialect(): Sql['dialect'] {
    return this.#base.dialect;
  }

  query<T>(text: string, params?: unknown[]): Promise<T[]> {
    return (this.#current.getStore() ?? this.#base).query<T>(text, params);
  }

  exec(script: string): Promise<void> {
    return (this.#current.getStore() ?? this.#base).exec(script);
  }

  /** Inside an ambient transaction this opens a savepoint instead of a second transaction. */
  transaction<R>(fn: (tx: Sql) => Promise<R>): Promise<R> {
    const outer = this.#current.getStore();
    if (outer) return outer.transaction(fn);
    return this.#base.transaction((tx) => this.#current.run(tx, () => fn(tx)));
  }

  listen(channel: string, onPayload: (payload: string) => void, onReset?: () => void) {
    return this.#base.listen(channel, onPayload, onReset);
  }

  close(): Promise<void> {
    return this.#base.close();
  }
}
