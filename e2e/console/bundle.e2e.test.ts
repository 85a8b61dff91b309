import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../apps/platform/src/testing/platform-process.ts';

describe('console bundle', () => {
  it('keeps the initial JavaScript within 300 KB gzipped, and a second build check is instant', () => {
    const started = Date.now();
    const out = execFileSync(process.execPath, [join(REPO_ROOT, 'apps/web/scripts/ensure-build.mjs')], {
      encoding: 'utf8',
    });
    // The stack's setup built it already: nothing to rebuild.
    expect(out).toContain('console: up to date');
    expect(Date.now() - started).toBeLessThan(5_000);
    const kb = Number(/initial JavaScript ([\d.]+) KB gzipped/.exec(out)?.[1]);
    expect(kb).toBeGreaterThan(10);
    expect(kb).toBeLessThanOrEqual(300);
  });
});
