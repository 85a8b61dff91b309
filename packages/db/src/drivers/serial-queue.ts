/**
 * Runs tasks one at a time in arrival order. PGlite has a single connection, so every top-level
 * statement and every whole transaction goes through one queue: a statement can never slip in
 * between the statements of someone else's transaction.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    // The chain must survive a failed task, otherwise every later task would be rejected too.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
