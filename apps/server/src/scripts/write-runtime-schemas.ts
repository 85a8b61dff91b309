import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { runtimeEventSchema, runtimeSpecSchema } from '@llmops/spec';

// JSON Schemas of the runtime contract, committed so the Python runtime's tests validate against exactly
// what the platform parses. `--check` fails when they drift from the Zod source.
const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../../docs/api');
const files = {
  'runtime-spec.schema.json': runtimeSpecSchema,
  'runtime-event.schema.json': runtimeEventSchema,
};

let drift = false;
for (const [name, schema] of Object.entries(files)) {
  const text = `${JSON.stringify(z.toJSONSchema(schema, { target: 'draft-2020-12' }), null, 2)}\n`;
  const path = join(dir, name);
  if (process.argv.includes('--check')) {
    if ((await readFile(path, 'utf8').catch(() => '')) !== text) {
      process.stderr.write(`docs/api/${name} is out of date; run \`npm run runtime-schemas\`\n`);
      drift = true;
    }
  } else {
    await writeFile(path, text);
    process.stdout.write(`wrote docs/api/${name}\n`);
  }
}
process.exit(drift ? 1 : 0);
