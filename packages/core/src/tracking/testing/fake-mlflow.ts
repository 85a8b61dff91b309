import type {
  DatasetInput,
  Experiment,
  KeyValue,
  Metric,
  MlflowApi,
  ModelVersion,
  RegisteredModel,
  Run,
  RunInfo,
} from '@llmops/integrations-mlflow';

/** Thrown by the fake like the adapter's MlflowError: `retryable` says whether a retry may pass. */
export class FakeMlflowError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * An in-memory MLflow for tests of the tracking logic: the subset of the REST semantics the dispatcher
 * relies on (write-once params, metric history, tag search, model versions), plus switches for downtime
 * and rejected keys. The real-server tests cover the adapter.
 */
export class FakeMlflow {
  readonly baseUrl = 'http://mlflow.fake';
  down = false;
  /** Metric keys the server rejects with INVALID_PARAMETER_VALUE. */
  rejectKey: (key: string) => boolean = () => false;
  readonly calls: string[] = [];
  readonly experiments = new Map<string, Experiment>();
  readonly runs = new Map<
    string,
    {
      info: RunInfo;
      metrics: Metric[];
      params: Map<string, string>;
      tags: Map<string, string>;
      inputs: DatasetInput[];
    }
  >();
  readonly artifacts = new Map<string, Uint8Array>();
  readonly models = new Map<string, RegisteredModel>();
  readonly versions: ModelVersion[] = [];
  private seq = 0;

  private enter(method: string): void {
    this.calls.push(method);
    if (this.down) throw new FakeMlflowError('CONNECTION_REFUSED', 'MLflow is down', true);
  }

  private run(runId: string) {
    const r = this.runs.get(runId);
    if (!r) throw new FakeMlflowError('RESOURCE_DOES_NOT_EXIST', `run ${runId}`, false);
    return r;
  }

  private view(r: NonNullable<ReturnType<FakeMlflow['runs']['get']>>): Run {
    const latest = new Map<string, Metric>();
    for (const m of r.metrics) {
      const prev = latest.get(m.key);
      if (!prev || m.step > prev.step || (m.step === prev.step && m.timestamp >= prev.timestamp))
        latest.set(m.key, m);
    }
    return {
      info: { ...r.info },
      data: {
        metrics: [...latest.values()],
        params: [...r.params].map(([key, value]) => ({ key, value })),
        tags: [...r.tags].map(([key, value]) => ({ key, value })),
      },
      inputs: { dataset_inputs: [...r.inputs] },
    };
  }

  api(): MlflowApi {
    const api: Partial<MlflowApi> = {
      baseUrl: this.baseUrl,
      runUrl: (e, r) => `${this.baseUrl}/#/experiments/${e}/runs/${r}`,
      modelVersionUrl: (n, v) => `${this.baseUrl}/#/models/${n}/versions/${v}`,
      health: async () => {
        this.enter('health');
        return { latencyMs: 1, version: 'fake' };
      },
      getExperimentByName: async (name) => {
        this.enter('getExperimentByName');
        return [...this.experiments.values()].find((e) => e.name === name) ?? null;
      },
      ensureExperiment: async (name, tags) => {
        this.enter('ensureExperiment');
        const found = [...this.experiments.values()].find((e) => e.name === name);
        if (found) return found;
        const exp: Experiment = {
          experiment_id: String(++this.seq),
          name,
          lifecycle_stage: 'active',
          artifact_location: `mlflow-artifacts:/${this.seq}`,
          tags,
        };
        this.experiments.set(exp.experiment_id, exp);
        return exp;
      },
      createRun: async (input) => {
        this.enter('createRun');
        const runId = `run${++this.seq}`;
        const info: RunInfo = {
          run_id: runId,
          run_name: input.runName,
          experiment_id: input.experimentId,
          status: 'RUNNING',
          start_time: input.startTime,
          artifact_uri: `mlflow-artifacts:/${input.experimentId}/${runId}/artifacts`,
          lifecycle_stage: 'active',
        };
        const entry = {
          info,
          metrics: [],
          params: new Map<string, string>(),
          tags: new Map((input.tags ?? []).map((t) => [t.key, t.value])),
          inputs: [],
        };
        this.runs.set(runId, entry);
        return this.view(entry);
      },
      getRun: async (runId) => {
        this.enter('getRun');
        const r = this.runs.get(runId);
        return r ? this.view(r) : null;
      },
      searchRuns: async (req) => {
        this.enter('searchRuns');
        const m = /^tags\.`([^`]+)` = '([^']*)'$/.exec(req.filter ?? '');
        const items = [...this.runs.values()]
          .filter((r) => req.experimentIds.includes(r.info.experiment_id))
          .filter((r) => !m || r.tags.get(m[1]!) === m[2])
          .map((r) => this.view(r));
        return { items: items.slice(0, req.maxResults ?? 1000), nextPageToken: null };
      },
      updateRun: async (input) => {
        this.enter('updateRun');
        const r = this.run(input.runId);
        if (input.status) r.info.status = input.status;
        if (input.endTime !== undefined) r.info.end_time = input.endTime;
      },
      setTag: async (runId, key, value) => {
        this.enter('setTag');
        this.run(runId).tags.set(key, value);
      },
      logBatch: async (req) => {
        this.enter('logBatch');
        const r = this.run(req.runId);
        const n = (req.metrics?.length ?? 0) + (req.params?.length ?? 0) + (req.tags?.length ?? 0);
        if ((req.metrics?.length ?? 0) > 1000 || (req.params?.length ?? 0) > 100 || n > 1000)
          throw new FakeMlflowError('INVALID_PARAMETER_VALUE', 'log-batch over its limits', false);
        for (const p of req.params ?? []) {
          const had = r.params.get(p.key);
          if (had !== undefined && had !== p.value)
            throw new FakeMlflowError('INVALID_PARAMETER_VALUE', `param ${p.key} changed`, false);
        }
        const bad = (req.metrics ?? []).find((m) => this.rejectKey(m.key));
        if (bad)
          throw new FakeMlflowError('INVALID_PARAMETER_VALUE', `invalid metric name '${bad.key}'`, false);
        for (const p of req.params ?? []) r.params.set(p.key, p.value);
        for (const t of req.tags ?? []) r.tags.set(t.key, t.value);
        // Like the SQL store: an identical metric (key, value, timestamp, step) is stored once.
        for (const m of req.metrics ?? [])
          if (
            !r.metrics.some(
              (x) =>
                x.key === m.key &&
                x.step === m.step &&
                x.timestamp === m.timestamp &&
                Object.is(x.value, m.value),
            )
          )
            r.metrics.push({ ...m });
      },
      logInputs: async (runId, datasets) => {
        this.enter('logInputs');
        const r = this.run(runId);
        for (const d of datasets)
          if (
            !r.inputs.some((x) => x.dataset.name === d.dataset.name && x.dataset.digest === d.dataset.digest)
          )
            r.inputs.push(d);
      },
      getMetricHistory: async (runId, key) => {
        this.enter('getMetricHistory');
        return this.run(runId).metrics.filter((m) => m.key === key);
      },
      uploadArtifact: async (run, path, body) => {
        this.enter('uploadArtifact');
        this.artifacts.set(`${run.run_id}/${path}`, body);
      },
      ensureRegisteredModel: async (name, tags) => {
        this.enter('ensureRegisteredModel');
        const found = this.models.get(name);
        if (found) return found;
        const m: RegisteredModel = { name, tags };
        this.models.set(name, m);
        return m;
      },
      searchModelVersions: async (input) => {
        this.enter('searchModelVersions');
        const m = /^run_id = '([^']*)'$/.exec(input.filter ?? '');
        return { items: this.versions.filter((v) => !m || v.run_id === m[1]), nextPageToken: null };
      },
      createModelVersion: async (input) => {
        this.enter('createModelVersion');
        const version: ModelVersion = {
          name: input.name,
          version: String(this.versions.filter((v) => v.name === input.name).length + 1),
          source: input.source,
          run_id: input.runId,
          tags: input.tags as KeyValue[],
          status: 'READY',
        };
        this.versions.push(version);
        return version;
      },
    };
    return new Proxy(api as MlflowApi, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (value === undefined && typeof prop === 'string' && prop !== 'then')
          return () => Promise.reject(new Error(`FakeMlflow does not implement ${prop}`));
        return value;
      },
    });
  }
}
