import type { Sql } from '../sql.ts';

let savepointCounter = 0;

/** A nested transaction on a transaction handle: a savepoint that is rolled back if `fn` throws. */
export async function runInSavepoint<R>(tx: Sql, fn: (tx: Sql) => Promise<R>): Promise<R> {
  savepointCounter += 1;
  const name = `llmops_sp_${savepointCounter}`;
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const result = await fn(tx);
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
}
