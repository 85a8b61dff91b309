import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveModelFiles } from './model-files.ts';

const root = mkdtempSync(join(tmpdir(), 'llmops-model-files-'));
const artifacts = join(root, 'artifacts');
const folder = join(artifacts, 'models', 'tiny', 'v1');
mkdirSync(folder, { recursive: true });
writeFileSync(join(folder, 'config.json'), '{}');
const model = (storageUri: string | null) => ({ name: 'tiny', version: 'v1', storageUri });

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('resolveModelFiles', () => {
  it('finds s3:// URIs in the artifact store, file:// URLs and absolute paths', () => {
    expect(resolveModelFiles(model('s3://models/tiny/v1'), artifacts)).toEqual({ ok: true, dir: folder });
    expect(resolveModelFiles(model(pathToFileURL(folder).href), artifacts)).toEqual({
      ok: true,
      dir: folder,
    });
    expect(resolveModelFiles(model(folder), artifacts)).toEqual({ ok: true, dir: folder });
  });

  it('names what is wrong when there is nothing to serve', () => {
    const cases: [string | null, string][] = [
      [null, "model 'tiny' version 'v1' has no storage URI"],
      ['gs://bucket/model', 'which the local model server cannot read'],
      ['s3://models/../etc', 'which the local model server cannot read'],
      ['s3://models/tiny/v2', `are missing: ${join(artifacts, 'models', 'tiny', 'v2')} does not exist`],
      ['s3://models/tiny/v1/config.json', 'not a model folder (not a directory)'],
      ['s3://models/tiny', 'not a Hugging Face model folder (no config.json)'],
    ];
    for (const [uri, message] of cases) {
      const r = resolveModelFiles(model(uri), artifacts);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toContain(message);
    }
  });
});
