import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { localPathOfUri } from '../../tracking/dispatcher.ts';
import type { RevisionDeployment } from '../backend.ts';

export type ModelFiles = { ok: true; dir: string } | { ok: false; message: string };

/**
 * The local folder holding a revision's model: `s3://bucket/key` in the local artifact store (where training
 * writes its output folder), a `file://` URL or an absolute path. Checks only what can be seen without
 * loading it (a folder with config.json); the model server checks the rest and exits with the reason.
 */
export function resolveModelFiles(model: RevisionDeployment['model'], artifactsDir: string): ModelFiles {
  const what = `model '${model.name}' version '${model.version}'`;
  if (!model.storageUri)
    return { ok: false, message: `${what} has no storage URI: it has no files to serve` };
  const dir = localPathOfUri(model.storageUri, artifactsDir);
  if (dir === null)
    return {
      ok: false,
      message: `${what} is stored at ${model.storageUri}, which the local model server cannot read (use s3:// in the artifact store, file:// or an absolute path)`,
    };
  if (!existsSync(dir))
    return { ok: false, message: `the files of ${what} are missing: ${dir} does not exist` };
  if (!statSync(dir).isDirectory())
    return { ok: false, message: `the files of ${what} at ${dir} are not a model folder (not a directory)` };
  if (!existsSync(join(dir, 'config.json')))
    return {
      ok: false,
      message: `the files of ${what} at ${dir} are not a Hugging Face model folder (no config.json)`,
    };
  return { ok: true, dir };
}
