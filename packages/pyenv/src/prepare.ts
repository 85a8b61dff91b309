/**
 * Prepares the Python environment (training runtime + Temporal CLI) for an LLMOPS_HOME and prints its paths.
 *
 *   npx tsx packages/pyenv/src/prepare.ts [--home DIR] [--dev] [--no-torch]
 *
 * --home defaults to $LLMOPS_HOME, else ./.llmops. Progress goes to stderr; stdout gets `key=value` lines.
 */
import { parseArgs } from 'node:util';
import { ensurePythonEnv } from './python-env.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      home: { type: 'string' },
      dev: { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
    },
  });
  const home = values.home ?? process.env.LLMOPS_HOME ?? '.llmops';
  const began = Date.now();
  const env = await ensurePythonEnv({
    home,
    dev: values.dev,
    requireTorch: !values['no-torch'],
    onProgress: (msg) => process.stderr.write(`[pyenv] ${msg}\n`),
  });
  process.stderr.write(`[pyenv] ready in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
  process.stdout.write(
    [
      `venv=${env.venvDir}`,
      `python=${env.python}`,
      `temporal=${env.temporalCli}`,
      `runtime=${env.runtimeCommand.join(' ')}`,
      `torch=${env.torchVersion ?? 'none'}`,
    ].join('\n') + '\n',
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`[pyenv] ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
