import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlatformConfig } from '@llmops/config';
import type { Services } from '@llmops/core';
import { buildApp } from '../app.ts';

/** The committed OpenAPI document; CI runs this with --check so the contract cannot drift from the code. */
export const OPENAPI_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../docs/api/openapi.json',
);

export async function renderOpenApi(): Promise<string> {
  // Generating the document only registers routes; no handler runs, so no services or database are needed.
  const app = await buildApp({
    services: {} as Services,
    platform: {
      config: loadPlatformConfig({ environment: 'dev' }),
      gpuPreference: 'auto',
      gpu: { state: 'unknown', count: 0, models: [], reason: 'not detected' },
    },
    checkDatabase: async () => {},
    version: '0.1.0',
    bodyLimitBytes: 1024 * 1024,
    uploadLimitBytes: 1024 * 1024,
  });
  await app.ready();
  const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  return doc;
}

async function main() {
  const doc = await renderOpenApi();
  if (process.argv.includes('--check')) {
    const committed = await readFile(OPENAPI_FILE, 'utf8').catch(() => '');
    if (committed !== doc) {
      process.stderr.write(
        'docs/api/openapi.json is out of date with the route schemas; run `npm run openapi` and commit the result\n',
      );
      process.exit(1);
    }
    process.stdout.write('docs/api/openapi.json is up to date\n');
    return;
  }
  await writeFile(OPENAPI_FILE, doc);
  process.stdout.write(`wrote docs/api/openapi.json (${doc.length} bytes)\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
