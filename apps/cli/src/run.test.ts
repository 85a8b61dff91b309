import { describe, expect, it } from 'vitest';
import { runCli } from './run.ts';

/** Runs the CLI with captured output and a URL nothing listens on: none of these may reach a server. */
async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { HOME: '/nonexistent', LLMOPS_URL: 'http://127.0.0.1:9', LLMOPS_TOKEN: 't' },
    cwd: '/nonexistent',
  });
  return { code, stdout, stderr };
}

describe('runCli usage', () => {
  it('prints help on --help and exits 0', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: llmops');
    expect(r.stdout).toMatch(/^ {2}submit \[options\]/m);
  });

  it('prints the version', async () => {
    const r = await cli('--version');
    expect(r).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('exits 2 for an unknown command', async () => {
    const r = await cli('jbos');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'jbos'");
  });

  it('exits 2 for a value outside the choices, naming them', async () => {
    const r = await cli('jobs', 'list', '--status', 'DONE');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 'DONE' is invalid. Allowed choices are QUEUED");
  });

  it('exits 2 when a required option is missing', async () => {
    const r = await cli('submit');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '-f, --file <path>' not specified");
  });

  it('exits 2 for a bad number', async () => {
    const r = await cli('jobs', 'list', '--limit', 'ten');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("expected a whole number >= 1, got 'ten'");
  });

  it('exits 2 for options that exclude each other, before any request', async () => {
    const r = await cli('datasets', 'create', 'pairs', 'v1', '--type', 'sft_pair');
    expect(r).toMatchObject({
      code: 2,
      stderr: 'error: give exactly one of --storage-uri (reference) or --file (upload)\n',
    });
  });

  it('exits 2 for an output format it does not know', async () => {
    const r = await cli('jobs', 'list', '-o', 'xml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Allowed choices are table, json, yaml');
  });
});
