import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { historyFromObject } from '../testing/harness.ts';
import { bundleWorkflows } from '../worker.ts';

// Histories recorded from real runs (LLMOPS_RECORD_HISTORIES=1 npx vitest run --project int
// apps/worker/src/training-job.int.test.ts) replayed on the current workflow code: a change that would
// break running workflows (a command added, removed or reordered) fails here. Such a change needs
// `patched()` — or, when it is intended, new recordings.
const dir = fileURLToPath(new URL('./__histories__/', import.meta.url));

describe('workflow replay', () => {
  it('replays every recorded history deterministically', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    // `*.before-<patch>.json`: recorded before a patch; they keep the pre-patch code path replaying.
    expect(files).toEqual([
      'admission.before-batch-grants-and-local-activities.json',
      'admission.json',
      'training-job-paused-resumed.before-batch-grants-and-local-activities.json',
      'training-job-paused-resumed.json',
      'training-job-succeeded.before-batch-grants-and-local-activities.json',
      'training-job-succeeded.json',
    ]);
    const workflowBundle = await bundleWorkflows();
    for (const file of files) {
      const history = historyFromObject(JSON.parse(await readFile(`${dir}${file}`, 'utf8')));
      await expect(Worker.runReplayHistory({ workflowBundle }, history, file), file).resolves.toBeUndefined();
    }
  });
});
