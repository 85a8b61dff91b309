import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMigratedPgliteImage, migratedPgliteImageKey } from '@llmops/db';

// Opening an empty PGlite runs initdb, which takes seconds on a small machine; loading a migrated
// image takes a fraction of that. The image is built once per machine (keyed by the migrations and
// the PGlite version) and shared by every test worker through the temp directory.
let image: Promise<Blob> | undefined;

export function migratedImage(): Promise<Blob> {
  image ??= loadOrBuild();
  return image;
}

/** Forget the cached image, e.g. after loading it failed. */
export async function discardMigratedImage(): Promise<void> {
  image = undefined;
  await rm(await imagePath(), { force: true });
}

async function imagePath(): Promise<string> {
  return join(tmpdir(), `llmops-pglite-${(await migratedPgliteImageKey()).slice(0, 16)}.tar`);
}

async function loadOrBuild(): Promise<Blob> {
  const path = await imagePath();
  try {
    return new Blob([await readFile(path)]);
  } catch {
    const built = await createMigratedPgliteImage();
    // Write then rename, so a worker never reads a half-written image from another one.
    const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(partial, new Uint8Array(await built.arrayBuffer()));
    await rename(partial, path);
    return built;
  }
}
