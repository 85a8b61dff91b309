import { describe, expect, it } from 'vitest';
import { freePort, mlflowServerArgs } from './index.ts';

describe('mlflow server command line', () => {
  it('passes the SQLite backend, proxied artifacts under the data dir, host, port and one worker', () => {
    expect(mlflowServerArgs('/data/mlflow', '127.0.0.1', 5123)).toEqual([
      'server',
      '--backend-store-uri',
      'sqlite:////data/mlflow/mlflow.db',
      '--artifacts-destination',
      '/data/mlflow/artifacts',
      '--serve-artifacts',
      '--host',
      '127.0.0.1',
      '--port',
      '5123',
      '--workers',
      '1',
    ]);
  });

  it('finds a free port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1023);
    expect(port).toBeLessThan(65536);
  });
});
