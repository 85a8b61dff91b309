#!/usr/bin/env node
// Builds the web console into apps/web/dist when its sources changed since the last build (a SHA-256 of
// the console's sources, the API client and the contract it compiles in, and the pinned dependency
// versions, kept in dist/.source-hash). A second run with nothing changed returns at once.
// Prints the initial JavaScript size, gzipped, against the 300 KB budget.
//   node apps/web/scripts/ensure-build.mjs [--force] [--quiet]
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(webDir, '../..');
const distDir = join(webDir, 'dist');
const stampFile = join(distDir, '.source-hash');
export const BUDGET_KB = 300;

const INPUTS = [
  'apps/web/index.html',
  'apps/web/vite.config.ts',
  'apps/web/package.json',
  'apps/web/src',
  'packages/client/src',
  'packages/spec/src',
];

function filesUnder(path) {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((e) => filesUnder(join(path, e.name)))
    .filter((f) => !/\.test\.ts$|__fixtures__/.test(f));
}

export function sourceHash() {
  const hash = createHash('sha256');
  const files = INPUTS.flatMap((p) => filesUnder(join(repoRoot, p))).sort();
  for (const file of files) {
    hash.update(relative(repoRoot, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  // The versions actually installed (a changed lock file rebuilds).
  for (const dep of ['vite', 'vue', 'vue-router', 'naive-ui', 'echarts', '@vitejs/plugin-vue']) {
    const pkg = join(repoRoot, 'node_modules', dep, 'package.json');
    hash.update(`${dep}@${existsSync(pkg) ? JSON.parse(readFileSync(pkg, 'utf8')).version : 'missing'}\n`);
  }
  return hash.digest('hex');
}

/** The entry chunk and every chunk it imports statically: what a browser loads before the first page. */
export function initialJavaScript(dir = distDir) {
  const manifest = JSON.parse(readFileSync(join(dir, '.vite', 'manifest.json'), 'utf8'));
  const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
  if (!entry) throw new Error('the console build has no entry chunk in its manifest');
  const seen = new Set();
  const visit = (key) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const dep of manifest[key].imports ?? []) visit(dep);
  };
  visit(entry);
  const files = [...seen].map((k) => manifest[k].file).filter((f) => f.endsWith('.js'));
  const bytes = files.reduce((n, f) => n + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
  return { files, gzipKb: Math.round((bytes / 1024) * 10) / 10 };
}

export function report(dir = distDir) {
  const { files, gzipKb } = initialJavaScript(dir);
  const verdict = gzipKb <= BUDGET_KB ? 'within' : 'OVER';
  return `console: initial JavaScript ${gzipKb} KB gzipped in ${files.length} file(s), ${verdict} the ${BUDGET_KB} KB budget`;
}

/** Output folders of builds whose process is gone (killed before it could clean up). */
function removeStaleOutput() {
  for (const name of readdirSync(webDir)) {
    const pid = /^dist\.tmp-(\d+)$/.exec(name)?.[1];
    if (!pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch {
      rmSync(join(webDir, name), { recursive: true, force: true });
    }
  }
}

export async function ensureBuild({ force = false, quiet = false } = {}) {
  const log = (line) => quiet || process.stdout.write(`${line}\n`);
  const hash = sourceHash();
  const current = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : null;
  if (!force && current === hash && existsSync(join(distDir, 'index.html'))) {
    log(`console: up to date (${hash.slice(0, 12)})`);
    log(report());
    return { built: false, hash };
  }
  log('console: building the web console…');
  const started = Date.now();
  const { build } = await import('vite');
  removeStaleOutput();
  // Built next to dist and swapped in, so a platform serving the old build never sees half a new one.
  const outDir = join(webDir, `dist.tmp-${process.pid}`);
  // Stopped (Ctrl-C, or `llmops up` ending first): leave no half-written output behind.
  const onSignal = (signal) => {
    rmSync(outDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await build({
      configFile: join(webDir, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
    writeFileSync(join(outDir, '.source-hash'), `${hash}\n`);
    rmSync(distDir, { recursive: true, force: true });
    renameSync(outDir, distDir);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(outDir, { recursive: true, force: true });
  }
  log(`console: built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  log(report());
  return { built: true, hash };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  ensureBuild({ force: args.includes('--force'), quiet: args.includes('--quiet') }).catch((e) => {
    process.stderr.write(`console: build failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
