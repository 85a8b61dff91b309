import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quickstartDeployment, quickstartJob } from './__fixtures__/submissions.ts';
import { createEndpointSchema } from './api.ts';
import { RULE_CODES } from './codes.ts';
import { parseWithRules } from './parse.ts';
import { submitJobRequestSchema } from './submissions.ts';
import { trainJobSpecSchema } from './train-job-spec.ts';
import { checkDatasetRow } from './datasets.ts';

const parseJob = (raw: unknown) => parseWithRules(submitJobRequestSchema, raw, ['trainJobSpec']);

describe('parseWithRules', () => {
  it('accepts the quickstart bodies as written', () => {
    expect(parseJob(quickstartJob()).ok).toBe(true);
    const endpoint = {
      modelId: 'm',
      route: '/test-model',
      environment: 'dev',
      deploymentSpec: quickstartDeployment(),
    };
    expect(parseWithRules(createEndpointSchema, endpoint, ['deploymentSpec']).ok).toBe(true);
  });

  it('names unknown fields with their JSON path', () => {
    const body = { ...quickstartJob(), trainJobSpec: { ...quickstartJob().trainJobSpec, learning_rate: 1 } };
    const r = parseJob(body);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.violations).toContainEqual(
        expect.objectContaining({ code: 'SCHEMA_UNKNOWN_FIELD', path: 'trainJobSpec.learning_rate' }),
      );
  });

  it('reports wrong types and missing fields precisely', () => {
    const b = quickstartJob();
    const { output: _o, ...noOutput } = b.trainJobSpec;
    const r = parseJob({
      ...b,
      trainJobSpec: { ...noOutput, hyperparams: { ...b.trainJobSpec.hyperparams, batch_size: '4' } },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.violations).toContainEqual(
      expect.objectContaining({ code: 'SCHEMA_INVALID_TYPE', path: 'trainJobSpec.hyperparams.batch_size' }),
    );
    expect(r.violations).toContainEqual(
      expect.objectContaining({ code: 'SCHEMA_REQUIRED', path: 'trainJobSpec.output' }),
    );
  });

  it('rejects an unknown submission kind and enum values with the allowed values', () => {
    const r = parseJob({ ...quickstartJob(), jobType: 'distill' });
    expect(r.ok).toBe(false);
    const r2 = parseJob({
      ...quickstartJob(),
      trainJobSpec: { ...quickstartJob().trainJobSpec, method: 'prefix' },
    });
    if (r2.ok) throw new Error('expected failure');
    expect(r2.violations[0]).toMatchObject({ code: 'SCHEMA_INVALID_VALUE', path: 'trainJobSpec.method' });
    expect(r2.violations[0]!.message).toContain('"lora"');
  });

  it.each([
    ['image', { image: 'evil:latest' }, 'image'],
    ['train_image', { train_image: 'evil:latest' }, 'train_image'],
    [
      'trainJobSpec.train_image',
      { trainJobSpec: { ...quickstartJob().trainJobSpec, train_image: 'x' } },
      'trainJobSpec.train_image',
    ],
  ])('refuses an image chosen by the request (%s) with IMAGE_OVERRIDE_FORBIDDEN', (_n, patch, path) => {
    const r = parseJob({ ...quickstartJob(), ...patch });
    if (r.ok) throw new Error('expected failure');
    expect(r.violations).toContainEqual(expect.objectContaining({ code: 'IMAGE_OVERRIDE_FORBIDDEN', path }));
    expect(r.violations.filter((v) => v.path === path)).toHaveLength(1);
  });

  it('refuses a serve_image in a deployment', () => {
    const body = {
      route: '/x',
      environment: 'dev',
      deploymentSpec: { ...quickstartDeployment(), serve_image: 'my/img:1' },
    };
    const r = parseWithRules(createEndpointSchema, body, ['deploymentSpec']);
    if (r.ok) throw new Error('expected failure');
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'IMAGE_OVERRIDE_FORBIDDEN', path: 'deploymentSpec.serve_image' }),
    ]);
  });
});

describe('fuzzing the spec schemas', () => {
  const codes = new Set(Object.keys(RULE_CODES));

  it('never throws on arbitrary JSON and always explains a rejection with known codes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        const r = parseJob(raw);
        if (!r.ok) {
          expect(r.violations.length).toBeGreaterThan(0);
          for (const v of r.violations) {
            expect(codes.has(v.code)).toBe(true);
            expect(v.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('survives random mutations of a valid body', () => {
    const leafPaths = [
      ['trainJobSpec', 'hyperparams', 'lr'],
      ['trainJobSpec', 'hyperparams', 'batch_size'],
      ['trainJobSpec', 'resources', 'gpus'],
      ['trainJobSpec', 'method'],
      ['trainJobSpec', 'dataset_ref', 'type'],
      ['trainJobSpec', 'use_gpu'],
      ['jobType'],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...leafPaths), fc.jsonValue(), (path, value) => {
        const body = structuredClone(quickstartJob()) as unknown as Record<string, unknown>;
        let obj = body;
        for (const key of path.slice(0, -1)) obj = obj[key] as Record<string, unknown>;
        obj[path.at(-1)!] = value;
        const r = parseJob(body);
        if (!r.ok)
          expect(
            r.violations.some(
              (v) => v.path.startsWith(path.join('.')) || v.path === '(body)' || path[0] === 'jobType',
            ),
          ).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts every generated well-formed TrainJobSpec and round-trips it through JSON', () => {
    const specArb = fc.record({
      job_type: fc.constantFrom('PRETRAIN', 'SFT', 'RAG_TUNING', 'RLHF', 'EMBEDDING'),
      model_family: fc.constantFrom('llama', 'mistral', 'bert'),
      base_model_ref: fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), { nil: null }),
      dataset_ref: fc.record({
        name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        version: fc.stringMatching(/^v[0-9]{1,3}$/),
        type: fc.constantFrom('pretrain_corpus', 'sft_pair', 'rag_qa', 'rlhf_pair', 'embedding_pair'),
        storage_uri: fc.constant('s3://bucket/data'),
      }),
      hyperparams: fc.record({
        lr: fc.double({ min: 1e-7, max: 1, noNaN: true, minExcluded: true }),
        batch_size: fc.integer({ min: 1, max: 512 }),
        num_epochs: fc.integer({ min: 1, max: 100 }),
        max_seq_len: fc.integer({ min: 1, max: 131072 }),
        precision: fc.constantFrom('fp16', 'bf16'),
      }),
      method: fc.constantFrom('full', 'lora', 'qlora'),
      resources: fc.record({
        gpus: fc.integer({ min: 0, max: 8 }),
        gpu_type: fc.constantFrom('A100', 'T4'),
        nodes: fc.integer({ min: 1, max: 4 }),
      }),
      output: fc.record({
        artifact_name: fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/),
        save_format: fc.constantFrom('hf', 'safetensors'),
      }),
      use_gpu: fc.boolean(),
    });
    fc.assert(
      fc.property(specArb, (spec) => {
        const parsed = trainJobSpecSchema.parse(JSON.parse(JSON.stringify(spec)));
        expect(parsed).toEqual(spec);
      }),
      { numRuns: 300 },
    );
  });
});

describe('dataset rows', () => {
  it.each([
    ['sft_pair', { instruction: 'Say hi', output: 'hi' }, true],
    ['sft_pair', { prompt: 'a', completion: 'b' }, true],
    [
      'sft_pair',
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
      },
      true,
    ],
    [
      'sft_pair',
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'robot', content: 'x' },
        ],
      },
      false,
    ],
    ['sft_pair', { instruction: '', output: 'x' }, false],
    ['rag_qa', { question: 'q', context: 'c', answer: 'a' }, true],
    ['rag_qa', { question: 'q', answer: 'a' }, false],
    ['rlhf_pair', { prompt: 'p', chosen: 'a', rejected: 'a' }, false],
    ['pretrain_corpus', { text: 'hello world' }, true],
    ['pretrain_corpus', 'just a string', false],
    ['embedding_pair', { query: 'q', positive: 'p' }, true],
  ] as const)('%s %j → %s', (type, row, ok) => {
    expect(checkDatasetRow(type, row).ok).toBe(ok);
  });

  it('names the problem of a broken row', () => {
    const r = checkDatasetRow('rag_qa', { question: 'q', answer: 'a', extra: 1 });
    expect(r).toEqual({ ok: false, message: expect.stringMatching(/rag_qa.*context/) });
  });
});
