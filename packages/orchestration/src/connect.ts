import { Client, Connection } from '@temporalio/client';

export interface TemporalTarget {
  /** host:port of the Temporal front end. */
  address: string;
  namespace?: string;
}

/** A Temporal client for the API or the platform process; close() ends its connection. */
export async function connectTemporal(
  target: TemporalTarget,
): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: target.address });
  const client = new Client({ connection, namespace: target.namespace ?? 'default' });
  return { client, close: () => connection.close() };
}
