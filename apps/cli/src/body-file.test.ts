import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineColumn, readBodyFile } from './body-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmops-body-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  await writeFile(join(dir, name), text);
  return name;
}

const read = (name: string) => readBodyFile(name, dir, 'the body of POST /training/jobs');

describe('readBodyFile', () => {
  it('reads YAML and JSON to the same body', async () => {
    const yaml = await file('job.yaml', 'jobType: finetune\ntrainJobSpec:\n  use_gpu: true\n');
    const json = await file('job.json', '{"jobType":"finetune","trainJobSpec":{"use_gpu":true}}');
    expect(await read(yaml)).toEqual({ jobType: 'finetune', trainJobSpec: { use_gpu: true } });
    expect(await read(json)).toEqual(await read(yaml));
  });

  it('points at the line and column of a YAML error and shows the context', async () => {
    const name = await file(
      'bad.yaml',
      'jobType: finetune\ntrainJobSpec:\n  job_type: SFT\n  job_type: RLHF\n',
    );
    await expect(read(name)).rejects.toThrow(/^bad\.yaml:4:3: not valid YAML: Map keys must be unique\n/);
  });

  it('points at the line and column of a JSON error', async () => {
    const name = await file('bad.json', '{\n  "jobType": "finetune",\n}\n');
    await expect(read(name)).rejects.toThrow(/^bad\.json:3:1: not valid JSON: /);
  });

  it('says the file is missing', async () => {
    await expect(read('missing.yaml')).rejects.toThrow('Cannot read missing.yaml: no such file');
  });

  it.each([
    ['list.yaml', '- a\n- b\n', 'found a list'],
    ['empty.yaml', '', 'found nothing'],
    ['scalar.yaml', 'hello\n', 'found a string'],
  ])('refuses %s: a body is a mapping', async (name, text, found) => {
    await file(name, text);
    await expect(read(name)).rejects.toThrow(
      `${name}: expected a mapping (the body of POST /training/jobs), ${found}`,
    );
  });
});

describe('lineColumn', () => {
  it('counts from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, col: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, col: 2 });
  });
});
