import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedWorkflowBundle, workflowBundleHash } from './bundle.ts';

describe('cached workflow bundle', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is built once by a child process, reused, and replaces stale bundles', async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmops-bundle-'));
    await writeFile(join(dir, 'workflow-bundle-0000000000000000.js'), 'stale');
    const first = await cachedWorkflowBundle(dir);
    expect(first.codePath).toBe(join(dir, `workflow-bundle-${await workflowBundleHash()}.js`));
    const built = await stat(first.codePath);
    expect(built.size).toBeGreaterThan(100_000);
    expect(await readdir(dir)).toEqual([first.codePath.slice(dir.length + 1)]);
    // Workflow modules are evaluated again for every workflow execution: only the workflow contract of
    // the spec is in the bundle, not the API and submission schemas.
    const code = await readFile(first.codePath, 'utf8');
    expect(code).toContain('./packages/spec/src/workflows.ts');
    expect(code).not.toContain('./packages/spec/src/api.ts');
    expect(code).not.toContain('./packages/spec/src/submissions.ts');

    const second = await cachedWorkflowBundle(dir);
    expect(second).toEqual(first);
    expect((await stat(second.codePath)).mtimeMs).toBe(built.mtimeMs);
  });
});
