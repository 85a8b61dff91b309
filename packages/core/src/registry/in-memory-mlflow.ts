import type {
  DatasetInput,
  Experiment,
  KeyValue,
  Metric,
  MlflowApi,
  ModelVersion,
  Page,
  RegisteredModel,
  Run,
} from '@llmops/integrations-mlflow';

/**
 * An in-memory stand-in for the MLflow REST API, for tests of the services and routes that do not need
 * a real server. It understands the search filters the platform writes (clauses joined by AND on
 * name, tags, params, datasets and start_time). `down = true` makes every call fail as a refused
 * connection would.
 */
export interface InMemoryMlflow extends MlflowApi {
  down: boolean;
  /** Number of setAlias calls, to show that a refused move changed nothing. */
  aliasWrites: number;
  /** MLflow reports PENDING_REGISTRATION while it copies a version's artifacts. */
  setVersionStatus(name: string, version: string, status: NonNullable<ModelVersion['status']>): void;
}

class NotFound extends Error {
  readonly status = 404;
}

type Clause = { field: string; op: string; value: string | number };

function parseFilter(filter: string | undefined): Clause[] {
  if (!filter) return [];
  return filter.split(/\s+AND\s+/).map((part) => {
    const m =
      /^\s*([\w.]+(?:\.`[^`]+`)?)\s*(>=|<=|!=|=|<|>|ILIKE|LIKE)\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*$/.exec(
        part,
      );
    if (!m) throw Object.assign(new Error(`unsupported filter clause: ${part}`), { status: 400 });
    const field = m[1]!.replace(/`/g, '');
    const value = m[5] !== undefined ? Number(m[5]) : (m[3] ?? m[4] ?? '');
    return { field, op: m[2]!, value };
  });
}

function likeRegex(pattern: string, flags: string) {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${body}$`, flags);
}

function matches(actual: string | number | undefined | (string | undefined)[], c: Clause): boolean {
  const values = Array.isArray(actual) ? actual : [actual];
  return values.some((a) => {
    if (a === undefined) return false;
    switch (c.op) {
      case '=':
        return a === c.value;
      case '!=':
        return a !== c.value;
      case '>=':
        return a >= c.value;
      case '<':
        return a < c.value;
      case '>':
        return a > c.value;
      case '<=':
        return a <= c.value;
      case 'LIKE':
        return likeRegex(String(c.value), '').test(String(a));
      case 'ILIKE':
        return likeRegex(String(c.value), 'i').test(String(a));
      default:
        return false;
    }
  });
}

const kv = (list: KeyValue[] | undefined, key: string) => list?.find((t) => t.key === key)?.value;

function paginate<T>(all: T[], maxResults = 100, pageToken?: string): Page<T> {
  const start = pageToken ? Number(pageToken) : 0;
  const items = all.slice(start, start + maxResults);
  const next = start + maxResults;
  return { items, nextPageToken: next < all.length ? String(next) : null };
}

export function createInMemoryMlflow(baseUrl = 'http://mlflow.test'): InMemoryMlflow {
  const experiments = new Map<string, Experiment>();
  const runs = new Map<string, Run>();
  const history = new Map<string, Metric[]>();
  const models = new Map<string, RegisteredModel>();
  const versions = new Map<string, ModelVersion[]>();
  const aliases = new Map<string, Map<string, string>>();
  let ids = 0;
  let clock = 1_700_000_000_000;

  const self: InMemoryMlflow = {
    baseUrl,
    down: false,
    aliasWrites: 0,
    setVersionStatus(name, version, status) {
      const v = versions.get(name)?.find((x) => x.version === version);
      if (!v) throw new NotFound(`${name} v${version}`);
      v.status = status;
    },
    runUrl: (e, r) => `${baseUrl}/#/experiments/${e}/runs/${r}`,
    modelVersionUrl: (n, v) => `${baseUrl}/#/models/${encodeURIComponent(n)}/versions/${v}`,
    async health() {
      gate();
      return { latencyMs: 0, version: 'in-memory' };
    },
    async getExperimentByName(name) {
      gate();
      return [...experiments.values()].find((e) => e.name === name) ?? null;
    },
    async getExperiment(id) {
      gate();
      return experiments.get(id) ?? null;
    },
    async deleteExperiment(id) {
      gate();
      const e = experiments.get(id);
      if (!e) throw new NotFound(`experiment ${id}`);
      e.lifecycle_stage = 'deleted';
    },
    async createExperiment(name, tags) {
      gate();
      const id = String(++ids);
      experiments.set(id, { experiment_id: id, name, lifecycle_stage: 'active', tags: tags ?? [] });
      return id;
    },
    async ensureExperiment(name, tags) {
      const found = await self.getExperimentByName(name);
      if (found) return found;
      return experiments.get(await self.createExperiment(name, tags))!;
    },
    async createRun(input) {
      gate();
      const id = `run${String(++ids).padStart(6, '0')}`;
      const run: Run = {
        info: {
          run_id: id,
          run_name: input.runName ?? id,
          experiment_id: input.experimentId,
          status: 'RUNNING',
          start_time: input.startTime ?? (clock += 1000),
          lifecycle_stage: 'active',
        },
        data: { metrics: [], params: [], tags: input.tags ?? [] },
        inputs: { dataset_inputs: [] },
      };
      runs.set(id, run);
      return structuredClone(run);
    },
    async getRun(runId) {
      gate();
      const r = runs.get(runId);
      return r ? structuredClone(r) : null;
    },
    async searchRuns(req) {
      gate();
      const clauses = parseFilter(req.filter);
      const all = [...runs.values()]
        .filter((r) => req.experimentIds.includes(r.info.experiment_id))
        .filter((r) =>
          clauses.every((c) => {
            const [type, ...rest] = c.field.split('.');
            const key = rest.join('.');
            if (type === 'tags') return matches(kv(r.data.tags, key), c);
            if (type === 'params') return matches(kv(r.data.params, key), c);
            if (type === 'datasets')
              return matches(
                (r.inputs?.dataset_inputs ?? []).map((d) =>
                  key === 'name' ? d.dataset.name : d.dataset.digest,
                ),
                c,
              );
            if (type === 'attributes' && key === 'start_time') return matches(r.info.start_time, c);
            throw Object.assign(new Error(`unsupported filter field ${c.field}`), { status: 400 });
          }),
        )
        .sort(
          (a, b) =>
            (b.info.start_time ?? 0) - (a.info.start_time ?? 0) || (a.info.run_id < b.info.run_id ? -1 : 1),
        );
      return paginate(
        all.map((r) => structuredClone(r)),
        req.maxResults,
        req.pageToken,
      );
    },
    async updateRun(input) {
      gate();
      const r = runs.get(input.runId);
      if (!r) throw new NotFound(`run ${input.runId}`);
      if (input.status) r.info.status = input.status;
      if (input.endTime) r.info.end_time = input.endTime;
    },
    async setTag(runId, key, value) {
      gate();
      const r = runs.get(runId);
      if (!r) throw new NotFound(`run ${runId}`);
      r.data.tags = [...(r.data.tags ?? []).filter((t) => t.key !== key), { key, value }];
    },
    async logBatch(req) {
      gate();
      const r = runs.get(req.runId);
      if (!r) throw new NotFound(`run ${req.runId}`);
      r.data.params = [...(r.data.params ?? []), ...(req.params ?? [])];
      for (const t of req.tags ?? []) await self.setTag(req.runId, t.key, t.value);
      for (const m of req.metrics ?? []) {
        const k = `${req.runId}\u0000${m.key}`;
        history.set(k, [...(history.get(k) ?? []), m]);
        const latest = (r.data.metrics ?? []).filter((x) => x.key !== m.key);
        r.data.metrics = [...latest, m];
      }
    },
    async logInputs(runId, datasets: DatasetInput[]) {
      gate();
      const r = runs.get(runId);
      if (!r) throw new NotFound(`run ${runId}`);
      r.inputs = { dataset_inputs: [...(r.inputs?.dataset_inputs ?? []), ...datasets] };
    },
    async getMetricHistory(runId, key) {
      gate();
      return structuredClone(history.get(`${runId}\u0000${key}`) ?? []);
    },
    async uploadArtifact() {
      gate();
    },
    async listArtifacts() {
      gate();
      return [];
    },
    async getRegisteredModel(name) {
      gate();
      const m = models.get(name);
      if (!m) return null;
      return {
        ...structuredClone(m),
        aliases: [...(aliases.get(name) ?? new Map())].map(([alias, version]) => ({ alias, version })),
        latest_versions: (versions.get(name) ?? []).slice(-1).map(withAliases),
      };
    },
    async ensureRegisteredModel(name, tags) {
      gate();
      if (!models.has(name))
        models.set(name, {
          name,
          tags: tags ?? [],
          creation_timestamp: clock,
          last_updated_timestamp: clock,
        });
      return (await self.getRegisteredModel(name))!;
    },
    async searchRegisteredModels(input) {
      gate();
      const clauses = parseFilter(input.filter);
      const names = [...models.keys()].sort();
      const found: RegisteredModel[] = [];
      for (const name of names) {
        const m = (await self.getRegisteredModel(name))!;
        const ok = clauses.every((c) =>
          c.field === 'name' ? matches(name, c) : matches(kv(m.tags, c.field.replace(/^tags\./, '')), c),
        );
        if (ok) found.push(m);
      }
      return paginate(found, input.maxResults, input.pageToken);
    },
    async createModelVersion(input) {
      gate();
      if (!models.has(input.name)) throw new NotFound(`registered model ${input.name}`);
      const list = versions.get(input.name) ?? [];
      const v: ModelVersion = {
        name: input.name,
        version: String(list.length + 1),
        source: input.source,
        ...(input.runId ? { run_id: input.runId } : {}),
        status: 'READY',
        tags: input.tags ?? [],
        creation_timestamp: (clock += 1000),
        ...(input.description ? { description: input.description } : {}),
      };
      versions.set(input.name, [...list, v]);
      return withAliases(v);
    },
    async getModelVersion(name, version) {
      gate();
      const v = versions.get(name)?.find((x) => x.version === version);
      return v ? withAliases(v) : null;
    },
    async searchModelVersions(input) {
      gate();
      const clauses = parseFilter(input.filter);
      const all = [...versions.values()]
        .flat()
        .filter((v) => clauses.every((c) => matches(c.field === 'name' ? v.name : v.run_id, c)))
        .map(withAliases);
      return paginate(all, input.maxResults, input.pageToken);
    },
    async setAlias(name, alias, version) {
      gate();
      if (!versions.get(name)?.some((v) => v.version === version)) throw new NotFound(`${name} v${version}`);
      self.aliasWrites += 1;
      const map = aliases.get(name) ?? new Map<string, string>();
      map.set(alias, version);
      aliases.set(name, map);
    },
    async deleteAlias(name, alias) {
      gate();
      aliases.get(name)?.delete(alias);
    },
    async getVersionByAlias(name, alias) {
      gate();
      const version = aliases.get(name)?.get(alias);
      return version ? self.getModelVersion(name, version) : null;
    },
  };

  function gate() {
    if (self.down) throw new TypeError(`fetch failed: connect ECONNREFUSED ${baseUrl}`);
  }
  function withAliases(v: ModelVersion): ModelVersion {
    const map = aliases.get(v.name) ?? new Map<string, string>();
    return {
      ...structuredClone(v),
      aliases: [...map].filter(([, ver]) => ver === v.version).map(([a]) => a),
    };
  }
  return self;
}
