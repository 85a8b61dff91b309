import { z } from 'zod';
import { codeForStatus, MlflowError } from './errors.ts';
import type {
  ArtifactFile,
  Experiment,
  Metric,
  MlflowApi,
  ModelVersion,
  Page,
  RegisteredModel,
  Run,
  RunInfo,
} from './types.ts';

export interface MlflowClientOptions {
  /** e.g. http://127.0.0.1:5000; a trailing slash is ignored. */
  baseUrl: string;
  /** Per request, including reading the body (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const ARTIFACT_SCHEME = 'mlflow-artifacts:';

// Response shapes: only what the adapter reads is checked; everything else passes through untouched.
const kv = z.object({ key: z.string(), value: z.string() });
const wireNumber = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
const wireMetric = z.looseObject({
  key: z.string(),
  value: wireNumber,
  timestamp: z.coerce.number(),
  step: z.coerce.number().optional(),
});
const experiment = z.looseObject({
  experiment_id: z.string(),
  name: z.string(),
  lifecycle_stage: z.enum(['active', 'deleted']),
  tags: z.array(kv).optional(),
});
const runInfo = z.looseObject({
  run_id: z.string(),
  experiment_id: z.string(),
  status: z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']),
  lifecycle_stage: z.enum(['active', 'deleted']),
  artifact_uri: z.string().optional(),
});
const run = z.looseObject({
  info: runInfo,
  data: z
    .looseObject({
      metrics: z.array(wireMetric).optional(),
      params: z.array(kv).optional(),
      tags: z.array(kv).optional(),
    })
    .optional(),
  inputs: z.looseObject({ dataset_inputs: z.array(z.looseObject({})).optional() }).optional(),
});
const modelVersion = z.looseObject({ name: z.string(), version: z.string(), source: z.string().optional() });
const registeredModel = z.looseObject({ name: z.string() });
const artifactFile = z.looseObject({ path: z.string(), is_dir: z.boolean().optional() });
const pageToken = z.string().optional();

/** NaN and ±Infinity are sent as the strings the server's protobuf JSON parser accepts (a bare NaN is lost). */
export function metricValueToWire(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

/**
 * The SQL store keeps ±Infinity as ±Number.MAX_VALUE (the largest double); both read back as ±Infinity, as the
 * runtime emitted them. NaN comes back as the string "NaN".
 */
export function metricValueFromWire(value: number | string): number {
  if (value === 'NaN') return NaN;
  if (value === 'Infinity' || value === Number.MAX_VALUE) return Infinity;
  if (value === '-Infinity' || value === -Number.MAX_VALUE) return -Infinity;
  return typeof value === 'number' ? value : Number(value);
}

function toMetric(m: z.infer<typeof wireMetric>): Metric {
  return { key: m.key, value: metricValueFromWire(m.value), timestamp: m.timestamp, step: m.step ?? 0 };
}

function toRun(r: z.infer<typeof run>): Run {
  const data = r.data ?? {};
  return {
    ...(r as unknown as Run),
    data: {
      ...data,
      metrics: (data.metrics ?? []).map(toMetric),
      params: data.params ?? [],
      tags: data.tags ?? [],
    },
  };
}

/** The proxy path of a run's artifact: `<artifact_uri minus mlflow-artifacts:/>/<path>`, each segment escaped. */
export function artifactProxyPath(artifactUri: string | undefined, path: string): string {
  if (!artifactUri?.startsWith(ARTIFACT_SCHEME))
    throw new MlflowError({
      operation: 'mlflow-artifacts/artifacts',
      code: 'INVALID_ARGUMENT',
      message:
        `the run's artifact_uri ${JSON.stringify(artifactUri ?? null)} is not served by the tracking server ` +
        `(expected ${ARTIFACT_SCHEME}/…; start mlflow server with --serve-artifacts and no --default-artifact-root)`,
    });
  const segments = path.split('/');
  if (!path || path.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..'))
    throw new MlflowError({
      operation: 'mlflow-artifacts/artifacts',
      code: 'INVALID_ARGUMENT',
      message: `artifact path ${JSON.stringify(path)} must be a relative path without empty, "." or ".." parts`,
    });
  // mlflow-artifacts:/1/<run>/artifacts, or mlflow-artifacts://host:port/1/<run>/artifacts.
  let root = artifactUri.slice(ARTIFACT_SCHEME.length);
  if (root.startsWith('//')) root = root.slice(2).replace(/^[^/]*/, '');
  const rootSegments = root.split('/').filter(Boolean);
  return [...rootSegments, ...segments].map(encodeURIComponent).join('/');
}

type Query = Record<string, string | number | undefined>;

/**
 * Reads (GET, and the searches, which MLflow takes as POST) are tried once more after a broken connection
 * or a server error: a kept-alive connection the server closed just as it was reused, or a moment of a busy
 * store, must not fail a search page made of a dozen parallel queries. Writes are never repeated here (the
 * tracking outbox retries those with its own backoff). A timeout is not retried: it already took its time.
 */
const READ_RETRY_DELAY_MS = 100;
const isRead = (operation: string, method: string) => method === 'GET' || operation.endsWith('/search');
const readWorthRetrying = (e: MlflowError) =>
  e.code === 'UNAVAILABLE' || (e.httpStatus !== null && e.httpStatus >= 500);

export function createMlflowClient(opts: MlflowClientOptions): MlflowApi {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = opts.fetch ?? fetch;

  /** One HTTP exchange; every failure becomes an MlflowError naming the operation. */
  async function exchange(
    operation: string,
    url: string,
    init: { method: string; body?: string | Uint8Array; headers?: Record<string, string> },
  ): Promise<{ status: number; text: string }> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await doFetch(url, { ...init, signal } as RequestInit);
      const text = await res.text();
      return { status: res.status, text };
    } catch (e) {
      if (signal.aborted || (e as Error).name === 'TimeoutError')
        throw new MlflowError({
          operation,
          code: 'TIMEOUT',
          message: `no answer from ${baseUrl} within ${timeoutMs} ms`,
          cause: e,
        });
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new MlflowError({
        operation,
        code: 'UNAVAILABLE',
        message: `${baseUrl} unreachable: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
        cause: e,
      });
    }
  }

  function failure(operation: string, status: number, text: string): MlflowError {
    let body: { error_code?: unknown; message?: unknown } | null;
    try {
      body = JSON.parse(text) as { error_code?: unknown; message?: unknown } | null;
    } catch {
      body = null;
    }
    const code = typeof body?.error_code === 'string' ? body.error_code : codeForStatus(status);
    const message =
      typeof body?.message === 'string'
        ? body.message
        : `HTTP ${status}: ${text.slice(0, 200) || 'empty body'}`;
    return new MlflowError({ operation, code, message, httpStatus: status });
  }

  async function call<S extends z.ZodType>(
    operation: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    schema: S,
    input: Query | Record<string, unknown> = {},
  ): Promise<z.infer<S>> {
    let url = `${baseUrl}/api/2.0/mlflow/${operation}`;
    const init: { method: string; body?: string; headers?: Record<string, string> } = { method };
    if (method === 'GET') {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(input)) if (v !== undefined) qs.append(k, String(v));
      const s = qs.toString();
      if (s) url += `?${s}`;
    } else {
      init.body = JSON.stringify(input);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const attempt = async () => {
      const { status, text } = await exchange(operation, url, init);
      if (status < 200 || status >= 300) throw failure(operation, status, text);
      return parse(operation, status, schema, text);
    };
    if (!isRead(operation, method)) return attempt();
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof MlflowError) || !readWorthRetrying(e)) throw e;
      await new Promise((r) => setTimeout(r, READ_RETRY_DELAY_MS));
      return attempt();
    }
  }

  function parse<S extends z.ZodType>(
    operation: string,
    status: number,
    schema: S,
    text: string,
  ): z.infer<S> {
    let json: unknown;
    try {
      json = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new MlflowError({
        operation,
        code: 'BAD_RESPONSE',
        message: `not JSON (HTTP ${status}): ${text.slice(0, 200)}`,
        httpStatus: status,
        retryable: false,
      });
    }
    const r = schema.safeParse(json);
    if (!r.success)
      throw new MlflowError({
        operation,
        code: 'BAD_RESPONSE',
        message: `unexpected shape (HTTP ${status}): ${r.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ')}`,
        httpStatus: status,
        retryable: false,
      });
    return r.data;
  }

  /** null for RESOURCE_DOES_NOT_EXIST (and 404s): the get* methods' "not found". */
  async function orNull<T>(p: Promise<T>): Promise<T | null> {
    try {
      return await p;
    } catch (e) {
      if (e instanceof MlflowError && (e.code === 'RESOURCE_DOES_NOT_EXIST' || e.code === 'NOT_FOUND'))
        return null;
      throw e;
    }
  }

  const empty = z.looseObject({});
  const experimentBody = z.looseObject({ experiment });
  const runBody = z.looseObject({ run });
  const mvBody = z.looseObject({ model_version: modelVersion });
  const rmBody = z.looseObject({ registered_model: registeredModel });

  const api: MlflowApi = {
    baseUrl,
    runUrl: (experimentId, runId) =>
      `${baseUrl}/#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}`,
    modelVersionUrl: (name, version) =>
      `${baseUrl}/#/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,

    async health() {
      const began = performance.now();
      const { status, text } = await exchange('health', `${baseUrl}/health`, { method: 'GET' });
      if (status !== 200) throw failure('health', status, text);
      const latencyMs = Math.round(performance.now() - began);
      let version: string | null = null;
      try {
        const v = await exchange('version', `${baseUrl}/version`, { method: 'GET' });
        if (v.status === 200 && /^\d+\.\d+/.test(v.text.trim())) version = v.text.trim();
      } catch {
        version = null;
      }
      return { latencyMs, version };
    },

    async getExperiment(experimentId) {
      const r = await orNull(call('experiments/get', 'GET', experimentBody, { experiment_id: experimentId }));
      return r ? (r.experiment as Experiment) : null;
    },
    async getExperimentByName(name) {
      const r = await orNull(
        call('experiments/get-by-name', 'GET', experimentBody, { experiment_name: name }),
      );
      return r ? (r.experiment as Experiment) : null;
    },
    async createExperiment(name, tags) {
      const r = await call('experiments/create', 'POST', z.looseObject({ experiment_id: z.string() }), {
        name,
        ...(tags?.length ? { tags } : {}),
      });
      return r.experiment_id;
    },
    async deleteExperiment(experimentId) {
      await call('experiments/delete', 'POST', empty, { experiment_id: experimentId });
    },
    async ensureExperiment(name, tags) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const found = await api.getExperimentByName(name);
        if (found?.lifecycle_stage === 'deleted') {
          // A deleted experiment keeps its name (and its runs): bring it back rather than fail.
          await call('experiments/restore', 'POST', empty, { experiment_id: found.experiment_id });
          return { ...found, lifecycle_stage: 'active' };
        }
        if (found) return found;
        try {
          const id = await api.createExperiment(name, tags);
          const created = await api.getExperiment(id);
          if (created) return created;
        } catch (e) {
          // Someone else created it between our lookup and our create: look it up again.
          if (!(e instanceof MlflowError && e.code === 'RESOURCE_ALREADY_EXISTS')) throw e;
        }
      }
      throw new MlflowError({
        operation: 'experiments/create',
        code: 'RESOURCE_CONFLICT',
        message: `experiment ${JSON.stringify(name)} neither found nor created after 3 attempts`,
      });
    },

    async createRun(input) {
      const r = await call('runs/create', 'POST', runBody, {
        experiment_id: input.experimentId,
        run_name: input.runName,
        start_time: input.startTime ?? Date.now(),
        tags: input.tags ?? [],
      });
      return toRun(r.run);
    },
    async getRun(runId) {
      const r = await orNull(call('runs/get', 'GET', runBody, { run_id: runId }));
      return r ? toRun(r.run) : null;
    },
    async searchRuns(req) {
      const r = await call(
        'runs/search',
        'POST',
        z.looseObject({ runs: z.array(run).optional(), next_page_token: pageToken }),
        {
          experiment_ids: req.experimentIds,
          filter: req.filter,
          order_by: req.orderBy,
          max_results: req.maxResults,
          page_token: req.pageToken,
          run_view_type: req.viewType,
        },
      );
      return { items: (r.runs ?? []).map(toRun), nextPageToken: r.next_page_token || null };
    },
    async updateRun(input) {
      await call('runs/update', 'POST', empty, {
        run_id: input.runId,
        status: input.status,
        end_time: input.endTime,
        run_name: input.runName,
      });
    },
    async setTag(runId, key, value) {
      await call('runs/set-tag', 'POST', empty, { run_id: runId, key, value });
    },
    async logBatch(req) {
      await call('runs/log-batch', 'POST', empty, {
        run_id: req.runId,
        metrics: (req.metrics ?? []).map((m) => ({ ...m, value: metricValueToWire(m.value) })),
        params: req.params ?? [],
        tags: req.tags ?? [],
      });
    },
    async logInputs(runId, datasets) {
      await call('runs/log-inputs', 'POST', empty, { run_id: runId, datasets });
    },
    async getMetricHistory(runId, key) {
      const out: Metric[] = [];
      let token: string | undefined;
      do {
        const r = await call(
          'metrics/get-history',
          'GET',
          z.looseObject({ metrics: z.array(wireMetric).optional(), next_page_token: pageToken }),
          { run_id: runId, metric_key: key, max_results: 25_000, page_token: token },
        );
        out.push(...(r.metrics ?? []).map(toMetric));
        token = r.next_page_token || undefined;
      } while (token);
      return out;
    },

    async uploadArtifact(info: RunInfo, path: string, body: Uint8Array) {
      const operation = 'mlflow-artifacts/artifacts';
      const url = `${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${artifactProxyPath(info.artifact_uri, path)}`;
      const { status, text } = await exchange(operation, url, {
        method: 'PUT',
        body,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      if (status < 200 || status >= 300) throw failure(operation, status, text);
    },
    async listArtifacts(runId, path) {
      const out: ArtifactFile[] = [];
      let token: string | undefined;
      do {
        const r = await call(
          'artifacts/list',
          'GET',
          z.looseObject({ files: z.array(artifactFile).optional(), next_page_token: pageToken }),
          { run_id: runId, path, page_token: token },
        );
        out.push(...(r.files ?? []).map((f) => ({ ...f, is_dir: f.is_dir ?? false }) as ArtifactFile));
        token = r.next_page_token || undefined;
      } while (token);
      return out;
    },

    async getRegisteredModel(name) {
      const r = await orNull(call('registered-models/get', 'GET', rmBody, { name }));
      return r ? (r.registered_model as RegisteredModel) : null;
    },
    async ensureRegisteredModel(name, tags) {
      try {
        const r = await call('registered-models/create', 'POST', rmBody, { name, tags: tags ?? [] });
        return r.registered_model as RegisteredModel;
      } catch (e) {
        if (!(e instanceof MlflowError && e.code === 'RESOURCE_ALREADY_EXISTS')) throw e;
      }
      const existing = await api.getRegisteredModel(name);
      if (!existing)
        throw new MlflowError({
          operation: 'registered-models/get',
          code: 'RESOURCE_DOES_NOT_EXIST',
          message: `registered model ${JSON.stringify(name)} was reported to exist but cannot be read`,
          retryable: true,
        });
      return existing;
    },
    async searchRegisteredModels(input) {
      const r = await call(
        'registered-models/search',
        'GET',
        z.looseObject({ registered_models: z.array(registeredModel).optional(), next_page_token: pageToken }),
        { filter: input.filter, max_results: input.maxResults, page_token: input.pageToken },
      );
      return {
        items: (r.registered_models ?? []) as RegisteredModel[],
        nextPageToken: r.next_page_token || null,
      } satisfies Page<RegisteredModel>;
    },
    async createModelVersion(input) {
      const r = await call('model-versions/create', 'POST', mvBody, {
        name: input.name,
        source: input.source,
        run_id: input.runId,
        tags: input.tags ?? [],
        description: input.description,
      });
      return r.model_version as ModelVersion;
    },
    async getModelVersion(name, version) {
      const r = await orNull(call('model-versions/get', 'GET', mvBody, { name, version }));
      return r ? (r.model_version as ModelVersion) : null;
    },
    async searchModelVersions(input) {
      const r = await call(
        'model-versions/search',
        'GET',
        z.looseObject({ model_versions: z.array(modelVersion).optional(), next_page_token: pageToken }),
        { filter: input.filter, max_results: input.maxResults, page_token: input.pageToken },
      );
      return { items: (r.model_versions ?? []) as ModelVersion[], nextPageToken: r.next_page_token || null };
    },
    async setAlias(name, alias, version) {
      await call('registered-models/alias', 'POST', empty, { name, alias, version });
    },
    async deleteAlias(name, alias) {
      await call('registered-models/alias', 'DELETE', empty, { name, alias });
    },
    async getVersionByAlias(name, alias) {
      try {
        const r = await call('registered-models/alias', 'GET', mvBody, { name, alias });
        return r.model_version as ModelVersion;
      } catch (e) {
        // A missing alias is INVALID_PARAMETER_VALUE "alias … not found" (3.x), a missing model 404.
        if (
          e instanceof MlflowError &&
          (e.code === 'RESOURCE_DOES_NOT_EXIST' ||
            (e.code === 'INVALID_PARAMETER_VALUE' && /alias .* not found/i.test(e.message)))
        )
          return null;
        throw e;
      }
    },
  };
  return api;
}
