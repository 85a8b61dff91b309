/**
 * TrainJobSpec ⇄ MLflow params and tags, lossless.
 *
 * Scheme (version 1):
 * - Every leaf of the JSON value becomes one param whose key is the dotted path (`hyperparams.lr`,
 *   `list.0.name`) and whose value is text: strings as they are, numbers, booleans and null as JSON text
 *   (`0.0001`, `true`, `null`; `-0` for negative zero). Params are what people read and filter on in MLflow.
 * - Key segments are made MLflow-safe: characters outside `[A-Za-z0-9_-]` become `_`, an empty segment `_`;
 *   a key longer than 240 characters is cut. Keys that collide after this get `_2`, `_3`, … in walk order.
 * - A string longer than 6000 characters (the server silently truncates longer param values) is split into
 *   chunks of 6000 code points: the first under the key, the next ones under `<key>.part2`, `<key>.part3`, ….
 * - The tag `llmops.spec.shape` holds the JSON of the value's shape: the same nesting, keys and array lengths,
 *   with every leaf replaced by its type (`s`, `n`, `b`, `z` for null; `s3` for a string in 3 chunks). Params
 *   keep the values, the shape keeps the types, so `"12"` and `12` differ. A shape longer than 5000 characters
 *   continues in `llmops.spec.shape.2`, `llmops.spec.shape.3`, ….
 * - Decoding walks the shape and recomputes the keys exactly as encoding did, so no key needs to be parsed.
 */
import { trainJobSpecSchema, type TrainJobSpec } from '@llmops/spec';
import type { KeyValue } from './types.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
/** The portable tag value size (newer servers take 8000). */
export const MAX_TAG_VALUE_LENGTH = 5000;
export const SHAPE_TAG = 'llmops.spec.shape';
export const ENCODING_TAG = 'llmops.spec.encoding';
const ENCODING = '1';
/** Room left after a base key for `_<n>` and `.part<n>` suffixes. */
const BASE_KEY_LENGTH = 240;

type LeafType = 's' | 'n' | 'b' | 'z';
type Shape = string | Shape[] | { [key: string]: Shape };

export class SpecParamsError extends Error {
  override readonly name = 'SpecParamsError';
}

/** Splits by code points (as the server counts), never inside a surrogate pair. */
function chunks(text: string, size: number): string[] {
  const points = Array.from(text);
  if (points.length <= size) return [text];
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

function safeSegment(segment: string): string {
  const s = segment.replace(/[^A-Za-z0-9_-]/g, '_');
  return s === '' ? '_' : s;
}

/** Hands out unique, MLflow-valid keys in a deterministic order. */
class KeyAllocator {
  private readonly used = new Set<string>();
  constructor(reserved: Iterable<string> = []) {
    for (const k of reserved) this.used.add(k);
  }
  take(base: string): string {
    let key = base.slice(0, BASE_KEY_LENGTH);
    for (let n = 2; this.used.has(key); n++) key = `${base.slice(0, BASE_KEY_LENGTH)}_${n}`;
    this.used.add(key);
    return key;
  }
}

function leafType(v: JsonValue): LeafType {
  if (v === null) return 'z';
  if (typeof v === 'string') return 's';
  if (typeof v === 'number') return 'n';
  if (typeof v === 'boolean') return 'b';
  throw new SpecParamsError(`not a JSON leaf: ${typeof v}`);
}

function leafText(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return JSON.stringify(v);
}

/** Walks a value (or a shape) in one fixed order: object keys as stored, array items by index. */
function keyOf(path: string[], prefix: string): string {
  const segments = path.map(safeSegment);
  const key = [prefix, ...segments].filter(Boolean).join('.');
  return key === '' ? 'value' : key;
}

/** Any JSON value → params (one per leaf) and the shape tags. `prefix` namespaces the keys (`spec` → `spec.x`). */
export function toMlflowFields(value: JsonValue, prefix = ''): { params: KeyValue[]; tags: KeyValue[] } {
  const params: KeyValue[] = [];
  const keys = new KeyAllocator();
  const walk = (v: JsonValue, path: string[]): Shape => {
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, String(i)]));
    if (v !== null && typeof v === 'object') {
      const shape: { [key: string]: Shape } = {};
      for (const [k, item] of Object.entries(v)) {
        Object.defineProperty(shape, k, {
          value: walk(item, [...path, k]),
          enumerable: true,
          writable: true,
        });
      }
      return shape;
    }
    const type = leafType(v);
    const parts = chunks(leafText(v), MAX_PARAM_VALUE_LENGTH);
    const key = keys.take(keyOf(path, prefix));
    params.push({ key, value: parts[0]! });
    for (let i = 1; i < parts.length; i++)
      params.push({ key: keys.take(`${key}.part${i + 1}`), value: parts[i]! });
    return parts.length > 1 ? `${type}${parts.length}` : type;
  };
  const shape = walk(value, []);
  const shapeParts = chunks(JSON.stringify(shape), MAX_TAG_VALUE_LENGTH);
  const tags: KeyValue[] = [
    { key: ENCODING_TAG, value: ENCODING },
    ...shapeParts.map((part, i) => ({ key: i === 0 ? SHAPE_TAG : `${SHAPE_TAG}.${i + 1}`, value: part })),
  ];
  return { params, tags };
}

function parseLeaf(type: LeafType, text: string, key: string): JsonValue {
  switch (type) {
    case 's':
      return text;
    case 'z':
      if (text !== 'null')
        throw new SpecParamsError(`param ${key} should be null, found ${JSON.stringify(text)}`);
      return null;
    case 'b':
      if (text !== 'true' && text !== 'false')
        throw new SpecParamsError(
          `param ${key} should be true or false, found ${JSON.stringify(text.slice(0, 50))}`,
        );
      return text === 'true';
    case 'n': {
      const n = Number(text);
      if (text.trim() === '' || (Number.isNaN(n) && text !== 'NaN'))
        throw new SpecParamsError(
          `param ${key} should be a number, found ${JSON.stringify(text.slice(0, 50))}`,
        );
      return n;
    }
  }
}

/** The inverse of `toMlflowFields`: reads the shape tags, then the params they point at. */
export function fromMlflowFields(params: KeyValue[], tags: KeyValue[], prefix = ''): JsonValue {
  const tagMap = new Map(tags.map((t) => [t.key, t.value]));
  const encoding = tagMap.get(ENCODING_TAG);
  if (encoding !== undefined && encoding !== ENCODING)
    throw new SpecParamsError(`unknown spec encoding ${JSON.stringify(encoding)} in tag ${ENCODING_TAG}`);
  let shapeText = tagMap.get(SHAPE_TAG);
  if (shapeText === undefined)
    throw new SpecParamsError(`the run has no ${SHAPE_TAG} tag: not logged by the platform`);
  for (let i = 2; tagMap.has(`${SHAPE_TAG}.${i}`); i++) shapeText += tagMap.get(`${SHAPE_TAG}.${i}`)!;
  let shape: Shape;
  try {
    shape = JSON.parse(shapeText) as Shape;
  } catch {
    throw new SpecParamsError(`tag ${SHAPE_TAG} is not JSON (a chunk missing?)`);
  }
  const paramMap = new Map(params.map((p) => [p.key, p.value]));
  const keys = new KeyAllocator();
  const read = (key: string): string => {
    const v = paramMap.get(key);
    if (v === undefined) throw new SpecParamsError(`param ${key} is missing`);
    return v;
  };
  const walk = (s: Shape, path: string[]): JsonValue => {
    if (Array.isArray(s)) return s.map((item, i) => walk(item, [...path, String(i)]));
    if (s !== null && typeof s === 'object') {
      const out: { [key: string]: JsonValue } = {};
      for (const [k, item] of Object.entries(s)) {
        Object.defineProperty(out, k, {
          value: walk(item, [...path, k]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    const m = /^([snbz])(\d*)$/.exec(s);
    if (!m) throw new SpecParamsError(`tag ${SHAPE_TAG} has an unknown leaf type ${JSON.stringify(s)}`);
    const count = m[2] ? Number(m[2]) : 1;
    const key = keys.take(keyOf(path, prefix));
    let text = read(key);
    for (let i = 2; i <= count; i++) text += read(keys.take(`${key}.part${i}`));
    return parseLeaf(m[1] as LeafType, text, key);
  };
  return walk(shape, []);
}

/** A TrainJobSpec as MLflow params (`hyperparams.lr` = `0.0002`, …) and tags (shape, and a few for search). */
export function toMlflowParams(spec: TrainJobSpec): { params: KeyValue[]; tags: KeyValue[] } {
  const { params, tags } = toMlflowFields(spec as unknown as JsonValue);
  const searchable: KeyValue[] = [
    { key: 'llmops.job_type', value: spec.job_type },
    { key: 'llmops.model_family', value: spec.model_family },
    { key: 'llmops.dataset', value: `${spec.dataset_ref.name}@${spec.dataset_ref.version}` },
    { key: 'llmops.artifact_name', value: spec.output.artifact_name },
    ...(spec.base_model_ref ? [{ key: 'llmops.base_model', value: spec.base_model_ref }] : []),
  ].map((t) => ({ key: t.key, value: chunks(t.value, MAX_TAG_VALUE_LENGTH)[0]! }));
  return { params, tags: [...tags, ...searchable] };
}

/** The TrainJobSpec back from a run's params and tags; throws SpecParamsError naming what is missing or wrong. */
export function fromMlflowParams(params: KeyValue[], tags: KeyValue[]): TrainJobSpec {
  const value = fromMlflowFields(params, tags);
  const parsed = trainJobSpecSchema.safeParse(value);
  if (!parsed.success)
    throw new SpecParamsError(
      `the run's params are not a valid TrainJobSpec: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}
