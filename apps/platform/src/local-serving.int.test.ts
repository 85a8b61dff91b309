import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTemporalCli, startTemporalDevServer, type DevServer } from '@llmops/orchestration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  linkPythonEnv,
  startPlatformProcess,
  testHome,
  waitFor,
  type PlatformProcess,
} from './testing/platform-process.ts';

// The user's path end to end on real components: a platform process (API + worker + local executor +
// local model servers) on a real Temporal dev server pre-trains the tiny llama, fine-tunes it with LoRA on
// a small sft_pair dataset, deploys the SFT model as an endpoint and answers chat completions through the
// platform's API — plain, streamed (SSE) and refused over the token limit by the model's own tokenizer —
// and, after the platform process is killed and started again, the endpoint serves again.

let dir: string;
let home: string;
let server: DevServer;
let platform: PlatformProcess | null = null;
const TOKEN = 'local-serving-bootstrap-token';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmops-local-serving-e2e-'));
  const cli = await resolveTemporalCli({ home: testHome(), dev: true });
  home = join(dir, 'home');
  await linkPythonEnv(home);
  server = await startTemporalDevServer({ cli, headless: true, dbFile: join(dir, 'temporal.db') });
}, 900_000);

afterAll(async () => {
  await platform?.stop();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

const start = () => startPlatformProcess({ home, temporalAddress: server.address, token: TOKEN });

async function upload(p: PlatformProcess, name: string, type: string, rows: object[]) {
  const form = new FormData();
  form.set('name', name);
  form.set('version', 'v1');
  form.set('type', type);
  form.set('file', new Blob([rows.map((r) => JSON.stringify(r)).join('\n') + '\n']), `${name}.jsonl`);
  const res = await fetch(`${p.api}/catalog/datasets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.token}` },
    body: form,
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function call<T = any>(p: PlatformProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${p.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as T, headers: res.headers };
}

async function trained(p: PlatformProcess, body: object): Promise<void> {
  const r = await call<{ data: { id: string } }>(p, 'POST', '/training/jobs', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const api = apiClient(p);
  const job = await waitFor(
    'training job to end',
    async () => {
      const j = await api.job(r.body.data.id);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
    },
    600_000,
  );
  expect(job.status, p.output().slice(-3000)).toBe('SUCCEEDED');
}

const hyper = { lr: 0.003, batch_size: 4, num_epochs: 1, max_seq_len: 64, precision: 'bf16' };

describe('a trained model served through the platform (local model server)', () => {
  it('pre-trains, fine-tunes with LoRA, deploys the SFT model and answers chat completions', async () => {
    platform = await start();
    const p = platform;
    const sentences = Array.from(
      { length: 24 },
      (_, i) => `the cat ${i % 2 ? 'sees' : 'likes'} the dog near the river.`,
    );
    await upload(
      p,
      'corpus',
      'pretrain_corpus',
      sentences.map((text) => ({ text })),
    );
    await upload(
      p,
      'pairs',
      'sft_pair',
      sentences.slice(0, 12).map((s) => ({ prompt: `say: ${s}`, completion: s })),
    );
    await trained(p, {
      jobType: 'pretrain',
      trainJobSpec: {
        job_type: 'PRETRAIN',
        model_family: 'llama',
        base_model_ref: null,
        dataset_ref: {
          name: 'corpus',
          version: 'v1',
          type: 'pretrain_corpus',
          storage_uri: 's3://datasets/default/corpus/v1',
        },
        hyperparams: hyper,
        method: 'full',
        resources: { gpus: 0, gpu_type: 'T4', nodes: 1 },
        output: { artifact_name: 'tiny-base', save_format: 'safetensors' },
        use_gpu: false,
      },
    });
    await trained(p, {
      jobType: 'finetune',
      trainJobSpec: {
        job_type: 'SFT',
        model_family: 'llama',
        base_model_ref: 'tiny-base',
        dataset_ref: {
          name: 'pairs',
          version: 'v1',
          type: 'sft_pair',
          storage_uri: 's3://datasets/default/pairs/v1',
        },
        hyperparams: hyper,
        method: 'lora',
        resources: { gpus: 0, gpu_type: 'T4', nodes: 1 },
        output: { artifact_name: 'tiny-sft', save_format: 'hf' },
        use_gpu: false,
      },
    });

    const ep = await call<{ data: { id: string; status: string } }>(p, 'POST', '/serving/endpoints', {
      route: '/tiny-chat',
      environment: 'dev',
      deploymentSpec: {
        model_ref: 'tiny-sft',
        model_family: 'llama',
        job_type: 'SFT',
        serve_target: 'GENERATION',
        resources: { gpus: 0, gpu_memory_gb: 0 },
        runtime: { max_concurrent_requests: 4, max_input_tokens: 48, max_output_tokens: 8 },
        rollout: { strategy: 'blue-green' },
        use_gpu: false,
      },
    });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    const id = ep.body.data.id;
    const ready = await waitFor(
      'endpoint READY',
      async () => {
        const s = await call<{ data: { status: string } }>(p, 'GET', `/serving/endpoints/${id}/status`);
        return s.body.data.status === 'READY'
          ? s.body.data
          : s.body.data.status === 'FAILED'
            ? s.body.data
            : null;
      },
      180_000,
    );
    expect(ready.status, JSON.stringify(ready)).toBe('READY');

    const chat = await call(p, 'POST', `/serving/endpoints/${id}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'say: the cat sees the dog' }],
      temperature: 0,
      max_tokens: 6,
    });
    expect(chat.status, JSON.stringify(chat.body)).toBe(200);
    expect(chat.body.object).toBe('chat.completion');
    expect(typeof chat.body.choices[0].message.content).toBe('string');
    expect(chat.body.usage.completion_tokens).toBeGreaterThan(0);

    // The same through the endpoint's route, streamed as Server-Sent Events.
    const stream = await fetch(`${p.api}/serving/routes/tiny-chat/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], stream: true, max_tokens: 4 }),
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await stream.text();
    const chunks = text.split('\n').filter((l) => l.startsWith('data: '));
    expect(chunks.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(chunks[0]!.slice(6)).object).toBe('chat.completion.chunk');

    // A prompt over max_input_tokens, counted by the model's tokenizer: 400 with the count and the limit.
    const long = await call(p, 'POST', `/serving/endpoints/${id}/v1/chat/completions`, {
      messages: [{ role: 'user', content: sentences.join(' ') }],
    });
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/48/);

    // The platform process dies; the next one starts the endpoint's model server again.
    await p.kill9();
    platform = await start();
    const again = await waitFor(
      'chat after restart',
      async () => {
        const r = await call(platform!, 'POST', `/serving/endpoints/${id}/v1/chat/completions`, {
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 2,
        });
        return r.status === 200 ? r : null;
      },
      120_000,
    );
    expect(again.body.choices).toHaveLength(1);
  }, 1_500_000);
});
