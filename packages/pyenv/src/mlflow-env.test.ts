import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MLFLOW_LOCK_FILE, mlflowVersionOf } from './mlflow-env.ts';

describe('the MLflow lock file', () => {
  const text = readFileSync(MLFLOW_LOCK_FILE, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));

  it('pins mlflow 3.x and every other package to one exact version', () => {
    expect(mlflowVersionOf(text)).toMatch(/^3\.\d+\.\d+$/);
    for (const line of lines) expect(line).toMatch(/^[A-Za-z0-9_.-]+==[^\s=<>~]+$/);
    const names = lines.map((l) =>
      l
        .split('==')[0]!
        .toLowerCase()
        .replace(/[-_.]+/g, '-'),
    );
    expect(new Set(names).size).toBe(names.length);
    // The server's own closure, not a skinny client.
    expect(names).toEqual(
      expect.arrayContaining(['mlflow', 'mlflow-skinny', 'uvicorn', 'sqlalchemy', 'alembic']),
    );
  });

  it('names a lock without an mlflow pin', () => {
    expect(() => mlflowVersionOf('numpy==2.0.0\n')).toThrow(/pins no mlflow==<version>/);
    expect(mlflowVersionOf('# c\nmlflow==3.1.0\nmlflow-skinny==3.1.0\n')).toBe('3.1.0');
  });
});
