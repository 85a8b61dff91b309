import { describe, expect, it } from 'vitest';
import { wantsLocalMlflow } from './up.ts';

describe('llmops up and MLflow', () => {
  it('starts a local MLflow unless MLFLOW_TRACKING_URI is set or tracking is off', () => {
    expect(wantsLocalMlflow({})).toBe(true);
    expect(wantsLocalMlflow({ MLFLOW_TRACKING_URI: ' ' })).toBe(true);
    expect(wantsLocalMlflow({ MLFLOW_TRACKING_URI: 'http://mlflow.internal:5000' })).toBe(false);
    expect(wantsLocalMlflow({ EXPERIMENT_TRACKING_ENABLED: 'false' })).toBe(false);
    expect(wantsLocalMlflow({ MLFLOW_ENABLED: 'No' })).toBe(false);
    expect(wantsLocalMlflow({ EXPERIMENT_TRACKING_ENABLED: '0', MLFLOW_ENABLED: 'true' })).toBe(false);
    expect(wantsLocalMlflow({ EXPERIMENT_TRACKING_ENABLED: 'true', MLFLOW_ENABLED: '1' })).toBe(true);
  });
});
