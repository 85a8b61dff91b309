import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../apps/platform/src/testing/platform-process.ts';

describe('console bundle', () => {
  it('keeps the initial JavaScript within 300 KB gzipped, and a second build check is instant', () => {
    const ensure = () =>
      execFileSync(process.execPath, [join(REPO_ROOT, 'apps/web/scripts/ensure-build.mjs')], {
        encoding: 'utf8',
      });
    ensure();
    const started = Date.now();
    const out = ensure();
    // Nothing changed since the first call: no rebuild.
    expect(out).toContain('console: up to date');
    expect(Date.now() - started).toBeLessThan(5_000);
    const kb = Number(/initial JavaScript ([\d.]+) KB gzipped/.exec(out)?.[1]);
    expect(kb).toBeGreaterThan(10);
    expect(kb).toBeLessThanOrEqual(300);
  });
});
