import { describe, expect, it } from 'vitest';
import { resolveTemporalCli } from './dev-server.ts';

describe('resolveTemporalCli', () => {
  it('takes LLMOPS_TEMPORAL_CLI first', async () => {
    await expect(resolveTemporalCli({ env: { LLMOPS_TEMPORAL_CLI: '/opt/temporal' } })).resolves.toBe(
      '/opt/temporal',
    );
  });

  it('tells how to configure the CLI when it cannot be found', async () => {
    await expect(resolveTemporalCli({ env: {} })).rejects.toThrow(/Set LLMOPS_TEMPORAL_CLI/);
  });
});
