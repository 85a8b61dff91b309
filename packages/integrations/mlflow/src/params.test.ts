import fc from 'fast-check';
import { DATASET_TYPES, JOB_TYPES, METHODS, PRECISIONS, SAVE_FORMATS, type TrainJobSpec } from '@llmops/spec';
import { describe, expect, it } from 'vitest';
import {
  fromMlflowFields,
  fromMlflowParams,
  MAX_KEY_LENGTH,
  MAX_PARAM_VALUE_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  SHAPE_TAG,
  SpecParamsError,
  toMlflowFields,
  toMlflowParams,
  type JsonValue,
  type KeyValue,
} from './index.ts';

const NAME = /^[/\w.\- ]*$/;

const SPEC: TrainJobSpec = {
  job_type: 'SFT',
  model_family: 'llama',
  base_model_ref: null,
  dataset_ref: { name: 'chats', version: 'v1', type: 'sft_pair', storage_uri: 's3://bucket/chats' },
  hyperparams: { lr: 0.0002, batch_size: 8, num_epochs: 3, max_seq_len: 2048, precision: 'bf16' },
  method: 'lora',
  resources: { gpus: 1, gpu_type: 'A100', nodes: 1 },
  output: { artifact_name: 'support-bot', save_format: 'safetensors' },
  use_gpu: false,
};

const specArb: fc.Arbitrary<TrainJobSpec> = fc.record({
  job_type: fc.constantFrom(...JOB_TYPES),
  model_family: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  base_model_ref: fc.option(fc.stringMatching(/^[a-z][a-z0-9 -]{0,30}[a-z]$/), { nil: null }),
  dataset_ref: fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    version: fc.stringMatching(/^v[0-9]{1,3}$/),
    type: fc.constantFrom(...DATASET_TYPES),
    // Up to the schema's 2048 characters, any text (still valid after trim).
    storage_uri: fc
      .string({ minLength: 1, maxLength: 2048, unit: 'grapheme' })
      .map((s) => `s3://${s.trim()}`),
  }),
  hyperparams: fc.record({
    lr: fc.double({ min: 1e-12, max: 1, noNaN: true, minExcluded: true }),
    batch_size: fc.integer({ min: 1, max: 4096 }),
    num_epochs: fc.integer({ min: 1, max: 1000 }),
    max_seq_len: fc.integer({ min: 1, max: 1_048_576 }),
    precision: fc.constantFrom(...PRECISIONS),
  }),
  method: fc.constantFrom(...METHODS),
  resources: fc.record({
    gpus: fc.integer({ min: 0, max: 1024 }),
    gpu_type: fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,10}$/),
    nodes: fc.integer({ min: 1, max: 512 }),
  }),
  output: fc.record({
    artifact_name: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/),
    save_format: fc.constantFrom(...SAVE_FORMATS),
  }),
  use_gpu: fc.boolean(),
}) as fc.Arbitrary<TrainJobSpec>;

function checkLimits(params: KeyValue[], tags: KeyValue[]) {
  for (const p of params) {
    expect(p.key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(p.key).toMatch(NAME);
    expect(p.key).not.toMatch(/^\.|\.$|\.\.|^\/|\/$|\/\//);
    expect(Array.from(p.value).length).toBeLessThanOrEqual(MAX_PARAM_VALUE_LENGTH);
  }
  expect(new Set(params.map((p) => p.key)).size).toBe(params.length);
  for (const t of tags) expect(Array.from(t.value).length).toBeLessThanOrEqual(MAX_TAG_VALUE_LENGTH);
}

describe('TrainJobSpec ⇄ MLflow params and tags', () => {
  it('maps a spec to dotted params with text values, and searchable tags', () => {
    const { params, tags } = toMlflowParams(SPEC);
    expect(params).toEqual(
      expect.arrayContaining([
        { key: 'job_type', value: 'SFT' },
        { key: 'base_model_ref', value: 'null' },
        { key: 'dataset_ref.storage_uri', value: 's3://bucket/chats' },
        { key: 'hyperparams.lr', value: '0.0002' },
        { key: 'hyperparams.batch_size', value: '8' },
        { key: 'use_gpu', value: 'false' },
      ]),
    );
    expect(params).toHaveLength(19);
    expect(tags).toEqual(
      expect.arrayContaining([
        { key: 'llmops.dataset', value: 'chats@v1' },
        { key: 'llmops.artifact_name', value: 'support-bot' },
        { key: 'llmops.model_family', value: 'llama' },
      ]),
    );
    expect(tags.find((t) => t.key === SHAPE_TAG)?.value).toContain('"lr":"n"');
    expect(fromMlflowParams(params, tags)).toEqual(SPEC);
  });

  it('round-trips every generated spec losslessly within MLflow limits', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const { params, tags } = toMlflowParams(spec);
        checkLimits(params, tags);
        // Order on the server is not ours to keep: read back shuffled.
        expect(fromMlflowParams([...params].reverse(), [...tags].reverse())).toEqual(spec);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips any JSON value: numbers, booleans, null, arrays, nested and empty containers, odd keys', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom('', 'spec'), (value, prefix) => {
        const { params, tags } = toMlflowFields(value as JsonValue, prefix);
        checkLimits(params, tags);
        expect(fromMlflowFields(params, tags, prefix)).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps types apart that look the same as text', () => {
    const value = { a: '12', b: 12, c: 'true', d: true, e: 'null', f: null, g: '', h: -0, i: [], j: {} };
    const { params, tags } = toMlflowFields(value);
    expect(params.find((p) => p.key === 'a')!.value).toBe(params.find((p) => p.key === 'b')!.value);
    const back = fromMlflowFields(params, tags) as typeof value;
    expect(back).toEqual(value);
    expect(Object.is(back.h, -0)).toBe(true);
  });

  it('splits a value over 6000 characters into numbered parts, and a long shape into numbered tags', () => {
    const long = '😀'.repeat(MAX_PARAM_VALUE_LENGTH * 2 + 1);
    const { params, tags } = toMlflowFields({ notes: long });
    expect(params.map((p) => p.key)).toEqual(['notes', 'notes.part2', 'notes.part3']);
    expect(params.map((p) => Array.from(p.value).length)).toEqual([6000, 6000, 1]);
    expect(fromMlflowFields(params, tags)).toEqual({ notes: long });

    const wide = Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`key_${i}`, i]));
    const w = toMlflowFields(wide);
    expect(w.tags.map((t) => t.key)).toEqual(expect.arrayContaining([SHAPE_TAG, `${SHAPE_TAG}.2`]));
    checkLimits(w.params, w.tags);
    expect(fromMlflowFields(w.params, w.tags)).toEqual(wide);
  });

  it('makes keys MLflow-safe and unique: odd characters, dots, collisions, very long paths', () => {
    const value = {
      'a.b': 1,
      a_b: 2,
      'x/y': 3,
      'é ü': 4,
      '': 5,
      ['k'.repeat(300)]: { ['k'.repeat(300)]: 6 },
    };
    const { params, tags } = toMlflowFields(value);
    checkLimits(params, tags);
    expect(params.map((p) => p.key).slice(0, 3)).toEqual(['a_b', 'a_b_2', 'x_y']);
    expect(fromMlflowFields(params, tags)).toEqual(value);
  });

  it('names what is missing or wrong instead of guessing', () => {
    const { params, tags } = toMlflowParams(SPEC);
    expect(() => fromMlflowParams(params, [])).toThrow(/has no llmops\.spec\.shape tag/);
    expect(() =>
      fromMlflowParams(
        params.filter((p) => p.key !== 'hyperparams.lr'),
        tags,
      ),
    ).toThrow(new SpecParamsError('param hyperparams.lr is missing'));
    const edited = params.map((p) => (p.key === 'hyperparams.batch_size' ? { ...p, value: 'eight' } : p));
    expect(() => fromMlflowParams(edited, tags)).toThrow(
      /param hyperparams\.batch_size should be a number, found "eight"/,
    );
    const invalid = params.map((p) => (p.key === 'method' ? { ...p, value: 'magic' } : p));
    expect(() => fromMlflowParams(invalid, tags)).toThrow(/not a valid TrainJobSpec: method: /);
    const future = tags.map((t) => (t.key === 'llmops.spec.encoding' ? { ...t, value: '9' } : t));
    expect(() => fromMlflowParams(params, future)).toThrow(/unknown spec encoding "9"/);
  });
});
