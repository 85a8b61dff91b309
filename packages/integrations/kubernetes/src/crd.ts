import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { isDns1035 } from './names.ts';

const crdFile = (name: string) => fileURLToPath(new URL(`../crds/${name}`, import.meta.url));

/**
 * The official CRDs the converters are checked against: verbatim upstream files, gzipped (see
 * crds/SOURCES.md for tags and checksums).
 */
export const CRD_FILES = {
  inferenceService: crdFile('kserve-inferenceservice-v0.15.2.yaml.gz'),
  inferenceServiceV0_20: crdFile('kserve-inferenceservice-v0.20.0.yaml.gz'),
  rayService: crdFile('ray-rayservice-v1.7.0.yaml.gz'),
} as const;

export interface CrdIssue {
  /** JSON path in the manifest, e.g. `spec.predictor.minReplicas` or `(root)`. */
  path: string;
  message: string;
}

export interface CrdValidation {
  valid: boolean;
  errors: CrdIssue[];
}

interface CrdVersion {
  name: string;
  served?: boolean;
  schema?: { openAPIV3Schema?: Record<string, unknown> };
}

interface Crd {
  spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

/** Reads a CRD (.yaml or gzipped .yaml.gz). */
export function readCrd(path: string): Crd {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const crd = parseYaml(text) as Crd;
  if (crd?.spec?.names?.kind === undefined || !Array.isArray(crd.spec.versions))
    throw new Error(`${path} is not a CustomResourceDefinition`);
  return crd;
}

const INT32 = 2 ** 31;

/** Ajv for Kubernetes structural schemas: x-kubernetes-* are known (not evaluated) keywords. */
function kubernetesAjv(): Ajv {
  // Skipping Ajv's code optimiser halves the compile time of these 1-2 MB schemas; validating stays fast.
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, code: { optimize: false } });
  ajv.addVocabulary([
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-list-type',
    'x-kubernetes-map-type',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-validations',
  ]);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -INT32 && n < INT32,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  return ajv;
}

/**
 * The API server prunes (or, with strict field validation, rejects) fields a structural schema does not
 * declare. Validation here rejects them, so a misspelt field fails the test instead of vanishing on apply:
 * every object schema with `properties` and no `additionalProperties` or
 * `x-kubernetes-preserve-unknown-fields` gets `additionalProperties: false`.
 */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' ? mapValues(v) : closeObjects(v);
  if (
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  )
    out.additionalProperties = false;
  return out;
}

function mapValues(props: unknown): unknown {
  if (typeof props !== 'object' || props === null) return props;
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, closeObjects(v)]));
}

interface Compiled {
  group: string;
  kind: string;
  versions: Map<string, ValidateFunction>;
}

const cache = new Map<string, Compiled>();

function compiled(crdPath: string): Compiled {
  let c = cache.get(crdPath);
  if (c) return c;
  const crd = readCrd(crdPath);
  const ajv = kubernetesAjv();
  const versions = new Map<string, ValidateFunction>();
  for (const v of crd.spec.versions) {
    const schema = v.schema?.openAPIV3Schema;
    if (v.served === false || !schema) continue;
    versions.set(v.name, ajv.compile(closeObjects(schema) as object));
  }
  c = { group: crd.spec.group, kind: crd.spec.names.kind, versions };
  cache.set(crdPath, c);
  return c;
}

function toPath(instancePath: string): string {
  if (!instancePath) return '(root)';
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : /^[A-Za-z_][\w]*$/.test(s) ? (i ? `.${s}` : s) : `["${s}"]`))
    .join('');
}

function describe(e: ErrorObject): CrdIssue {
  const base = toPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return {
        path: base === '(root)' ? String(p.missingProperty) : `${base}.${String(p.missingProperty)}`,
        message: 'required field is missing',
      };
    case 'additionalProperty':
    case 'additionalProperties':
      return {
        path: base === '(root)' ? String(p.additionalProperty) : `${base}.${String(p.additionalProperty)}`,
        message: 'field is not defined by the CRD schema',
      };
    case 'enum':
      return {
        path: base,
        message: `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    default:
      return { path: base, message: e.message ?? e.keyword };
  }
}

/**
 * Validates a manifest against a CRD: apiVersion must be `<group>/<served version>` and kind the CRD's
 * kind, metadata.name a DNS-1035 label, and the object must satisfy that version's openAPIV3Schema
 * (with undeclared fields rejected). CEL rules (x-kubernetes-validations) are not evaluated.
 */
export function validateAgainstCrd(manifest: unknown, crdPath: string): CrdValidation {
  const c = compiled(crdPath);
  const errors: CrdIssue[] = [];
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest))
    return { valid: false, errors: [{ path: '(root)', message: 'a manifest must be an object' }] };
  const m = manifest as Record<string, unknown>;
  const served = [...c.versions.keys()].map((v) => `${c.group}/${v}`);
  const apiVersion = typeof m.apiVersion === 'string' ? m.apiVersion : undefined;
  const version = apiVersion?.startsWith(`${c.group}/`) ? apiVersion.slice(c.group.length + 1) : undefined;
  const validate = version === undefined ? undefined : c.versions.get(version);
  if (!validate)
    errors.push({
      path: 'apiVersion',
      message: `'${String(m.apiVersion)}' is not served by this CRD (expected ${served.join(' or ')})`,
    });
  if (m.kind !== c.kind) errors.push({ path: 'kind', message: `'${String(m.kind)}' is not ${c.kind}` });
  const meta = m.metadata as Record<string, unknown> | undefined;
  const name = meta?.name;
  if (typeof name !== 'string') errors.push({ path: 'metadata.name', message: 'required field is missing' });
  else if (!isDns1035(name))
    errors.push({ path: 'metadata.name', message: `'${name}' is not a DNS-1035 label` });
  if (validate && !validate(m)) errors.push(...(validate.errors ?? []).map(describe));
  return { valid: errors.length === 0, errors };
}

/** One line per issue, for assertion messages and logs. */
export function formatCrdErrors(v: CrdValidation): string {
  return v.errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}
