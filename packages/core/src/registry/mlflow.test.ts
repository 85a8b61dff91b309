import { describe, expect, it } from 'vitest';
import { callMlflow, filterLiteral, mlflowFailure, mlflowFromEnv, requireMlflow } from './mlflow.ts';
import { createInMemoryMlflow } from './in-memory-mlflow.ts';

const api = createInMemoryMlflow('http://mlflow.example:5000');
const mlflowError = (httpStatus: number | null, code: string, retryable: boolean) =>
  Object.assign(new Error(`MLflow op: ${code}: boom`), { httpStatus, code, retryable });

describe('MLflow failures', () => {
  it('names MLflow and its URL when it is unreachable, slow or failing (503)', () => {
    for (const e of [
      new TypeError('fetch failed'),
      mlflowError(null, 'TIMEOUT', true),
      mlflowError(500, 'INTERNAL_ERROR', true),
      mlflowError(429, 'REQUEST_LIMIT_EXCEEDED', true),
    ]) {
      const f = mlflowFailure(api, e);
      expect(f.statusCode).toBe(503);
      expect(f.message).toMatch(/^MLflow at http:\/\/mlflow\.example:5000 is unavailable: /);
    }
  });

  it('passes on what MLflow refused as a bad request (400) with its message', () => {
    const f = mlflowFailure(api, mlflowError(400, 'INVALID_PARAMETER_VALUE', false));
    expect(f.statusCode).toBe(400);
    expect(f.message).toBe('MLflow rejected the request: MLflow op: INVALID_PARAMETER_VALUE: boom');
    expect(mlflowFailure(api, mlflowError(null, 'INVALID_ARGUMENT', false)).statusCode).toBe(400);
  });

  it('answers 503 when no MLflow is configured, and wraps calls', async () => {
    expect(() => requireMlflow(null)).toThrow(/MLflow is not configured: set MLFLOW_TRACKING_URI/);
    const down = createInMemoryMlflow();
    down.down = true;
    await expect(callMlflow(down, (m) => m.health())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('quotes filter values with the quote they do not contain', () => {
    expect(filterLiteral('a', 'x')).toBe("'a'");
    expect(filterLiteral("a'b", 'x')).toBe('"a\'b"');
    expect(() => filterLiteral(`a'"b`, 'model')).toThrow(/model cannot contain both/);
  });
});

describe('mlflowFromEnv', () => {
  it('connects to MLFLOW_TRACKING_URI unless MLflow is switched off', () => {
    expect(
      mlflowFromEnv({ MLFLOW_ENABLED: true, MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000/' })?.baseUrl,
    ).toBe('http://127.0.0.1:5000');
    expect(mlflowFromEnv({ MLFLOW_ENABLED: false, MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' })).toBeNull();
  });
});
