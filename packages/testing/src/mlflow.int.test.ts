import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRetryable } from '@llmops/integrations-mlflow';
import { startTestMlflow } from './index.ts';

describe('startTestMlflow', () => {
  it(
    'runs a real MLflow on a free loopback port that survives halt/resume and restart, and stop removes it',
    async () => {
      const mlflow = await startTestMlflow();
      try {
        expect(mlflow.url).toBe(`http://127.0.0.1:${mlflow.port}`);
        const exp = await mlflow.client.ensureExperiment('survives');
        const run = await mlflow.client.createRun({ experimentId: exp.experiment_id });
        await mlflow.client.logBatch({
          runId: run.info.run_id,
          metrics: [{ key: 'loss', value: 1.5, timestamp: Date.now(), step: 1 }],
        });

        await mlflow.halt();
        expect(isRetryable(await mlflow.client.health().catch((e: unknown) => e))).toBe(true);
        await mlflow.resume();
        expect((await mlflow.client.getMetricHistory(run.info.run_id, 'loss')).map((m) => m.value)).toEqual([
          1.5,
        ]);

        await mlflow.restart({ downMs: 500 });
        expect((await mlflow.client.getExperimentByName('survives'))?.experiment_id).toBe(exp.experiment_id);
        expect(mlflow.logTail().some((l) => l.includes('Uvicorn running'))).toBe(true);
      } finally {
        await mlflow.stop();
      }
      expect(existsSync(mlflow.dataDir)).toBe(false);
      expect(isRetryable(await mlflow.client.health().catch((e: unknown) => e))).toBe(true);
    },
    15 * 60_000,
  );
});
