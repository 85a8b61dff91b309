import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LineFollower } from './line-follower.ts';
import { makeRunsDir } from './testing/harness.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeRunsDir()));
afterEach(() => cleanup());

it('hands over complete lines only, in order, across partial writes and split UTF-8 characters', async () => {
  const file = join(dir, 'out.jsonl');
  const lines: string[] = [];
  const follower = new LineFollower(file, (l) => void lines.push(l));

  await follower.pump(); // the file does not exist yet
  expect(lines).toEqual([]);

  const euro = Buffer.from('€'); // three bytes
  await writeFile(file, Buffer.concat([Buffer.from('one\r\ntw'), euro.subarray(0, 1)]));
  await follower.pump();
  expect(lines).toEqual(['one']);

  await appendFile(file, Buffer.concat([euro.subarray(1), Buffer.from('o\nthree')]));
  await follower.pump();
  expect(lines).toEqual(['one', 'tw€o']);
  expect(follower.lastWriteAt).toBeGreaterThan(Date.now() - 60_000);

  await follower.pump(true); // the writer is gone: the unterminated tail is a line
  expect(lines).toEqual(['one', 'tw€o', 'three']);
  await follower.close();
});

it('awaits each line before handing over the next', async () => {
  const file = join(dir, 'slow.jsonl');
  await writeFile(file, 'a\nb\nc\n');
  const seen: string[] = [];
  const follower = new LineFollower(file, async (l) => {
    await new Promise((r) => setTimeout(r, 5));
    seen.push(l);
  });
  await follower.pump();
  expect(seen).toEqual(['a', 'b', 'c']);
  await follower.close();
});
