import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDbKind } from '@llmops/testing';
import { API, createTestPlatform, type TestPlatform } from './testing/test-platform.ts';

async function multipart(fields: Record<string, string>, file?: { name: string; content: string }) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file.content]), file.name);
  const req = new Request('http://localhost/', { method: 'POST', body: form });
  return {
    payload: Buffer.from(await req.arrayBuffer()),
    headers: { 'content-type': req.headers.get('content-type')! },
  };
}

const SFT_JSONL = [
  { instruction: 'Say hello', output: 'Hello!' },
  { prompt: 'Capital of France?', completion: 'Paris' },
  {
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ],
  },
]
  .map((r) => JSON.stringify(r))
  .join('\n');

describe(`dataset upload (${testDbKind()})`, () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await createTestPlatform({ uploadLimitBytes: 4096 });
  });
  afterAll(() => p.close());

  const upload = async (fields: Record<string, string>, file?: { name: string; content: string }) => {
    const m = await multipart(fields, file);
    const res = await p.app.inject({
      method: 'POST',
      url: `${API}/catalog/datasets`,
      payload: m.payload,
      headers: { ...m.headers, authorization: `Bearer ${p.adminToken}` },
    });
    return { status: res.statusCode, body: res.json() };
  };
  const storedFiles = async () =>
    readdir(join(p.home, 'artifacts', 'datasets'), { recursive: true }).catch(() => []);

  it('stores a valid JSONL file with its SHA-256 and row count', async () => {
    const res = await upload(
      { name: 'greetings', version: 'v1', type: 'sft_pair' },
      { name: 'greetings.jsonl', content: SFT_JSONL },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data).toMatchObject({
      name: 'greetings',
      row_count: 3,
      format: 'jsonl',
      sha256: createHash('sha256').update(SFT_JSONL).digest('hex'),
      size_bytes: Buffer.byteLength(SFT_JSONL),
      validation: { rows: 3, valid: 3, errors: [] },
    });
    expect(res.body.data.storage_uri).toMatch(/^s3:\/\/datasets\/default\/greetings\/v1\//);
    expect((await storedFiles()).some((f) => String(f).endsWith('.jsonl'))).toBe(true);
  });

  it('accepts CSV with a header row', async () => {
    const csv = 'question,context,answer\n"What is 2+2?","Arithmetic","4"\nWho?,Someone,Them\n';
    const res = await upload({ name: 'qa', version: 'v1', type: 'rag_qa' }, { name: 'qa.csv', content: csv });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.row_count).toBe(2);
  });

  it('rejects a file with broken rows, naming each row, and stores nothing', async () => {
    const before = await storedFiles();
    const content = `${SFT_JSONL}\n{"instruction": "x"}\nnot json\n`;
    const res = await upload(
      { name: 'broken', version: 'v1', type: 'sft_pair' },
      { name: 'broken.jsonl', content },
    );
    expect(res.status).toBe(422);
    expect(res.body.data.code).toBe('VALIDATION_FAILED');
    expect(res.body.message).toMatch(/2 invalid row\(s\) of 5 for type 'sft_pair'; first: row 4/);
    expect(res.body.data.details.errors.map((e: any) => e.row)).toEqual([4, 5]);
    expect(res.body.data.details.errors[1].message).toMatch(/invalid JSON/);
    expect(await storedFiles()).toEqual(before);
    const list = await p.as(p.adminToken).get(`${API}/catalog/datasets?search=broken`);
    expect(list.body.data.total).toBe(0);
  });

  it('rejects rows of the wrong type, a missing field, an unknown extension, an empty file and an oversized file', async () => {
    const rag = await upload(
      { name: 'wrong', version: 'v1', type: 'rag_qa' },
      { name: 'w.jsonl', content: SFT_JSONL },
    );
    expect(rag.status).toBe(422);
    const noType = await upload({ name: 'x', version: 'v1' }, { name: 'x.jsonl', content: SFT_JSONL });
    expect(noType.status).toBe(400);
    expect(noType.body.data.violations[0].path).toBe('fields.type');
    const ext = await upload(
      { name: 'x', version: 'v1', type: 'sft_pair' },
      { name: 'x.parquet', content: 'PAR1' },
    );
    expect(ext.status).toBe(415);
    const empty = await upload(
      { name: 'e', version: 'v1', type: 'sft_pair' },
      { name: 'e.jsonl', content: '\n\n' },
    );
    expect(empty.status).toBe(422);
    const big = await upload(
      { name: 'big', version: 'v1', type: 'pretrain_corpus' },
      { name: 'big.jsonl', content: `${JSON.stringify({ text: 'y'.repeat(5000) })}\n` },
    );
    expect(big.status).toBe(413);
  });

  it('refuses a second dataset with the same name and version', async () => {
    const res = await upload(
      { name: 'greetings', version: 'v1', type: 'sft_pair' },
      { name: 'g.jsonl', content: SFT_JSONL },
    );
    expect(res.status).toBe(409);
  });
});
