import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('.', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = join(SRC, 'bundle-child.mjs');
const WORKFLOWS_PATH = join(SRC, 'workflows', 'index.ts');
/** What the bundle is made of: the workflow code, the spec it imports, the SDK version, the bundler script. */
const INPUT_DIRS = [join(SRC, 'workflows'), join(REPO, 'packages', 'spec', 'src')];
const INPUT_FILES = [join(REPO, 'package-lock.json'), CHILD];
const BUNDLE_TIMEOUT_MS = 180_000;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A digest of every input of the workflow bundle; a change to any of them makes a new bundle. */
export async function workflowBundleHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = [...(await Promise.all(INPUT_DIRS.map(sourceFiles))).flat(), ...INPUT_FILES];
  for (const file of files) {
    hash.update(file.slice(REPO.length)).update('\0');
    hash.update(await readFile(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The workflow bundle as a file under `cacheDir`, made by a child process when the inputs changed. The
 * worker loads it with `{ codePath }`: webpack (~130 MiB) never runs in the worker's process, and the
 * second start skips bundling altogether. Older bundles in `cacheDir` are removed.
 */
export async function cachedWorkflowBundle(cacheDir: string): Promise<{ codePath: string }> {
  const name = `workflow-bundle-${await workflowBundleHash()}.js`;
  const codePath = join(cacheDir, name);
  if (existsSync(codePath)) return { codePath };
  await mkdir(cacheDir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [CHILD, WORKFLOWS_PATH, codePath],
      { timeout: BUNDLE_TIMEOUT_MS, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const detail = stderr.trim().split('\n').slice(-10).join('\n') || error.message;
        reject(new Error(`could not bundle the workflow code: ${detail}`, { cause: error }));
      },
    );
  });
  for (const file of await readdir(cacheDir))
    if (file.startsWith('workflow-bundle-') && file !== name) await rm(join(cacheDir, file), { force: true });
  return { codePath };
}
