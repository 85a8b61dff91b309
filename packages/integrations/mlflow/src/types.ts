/**
 * The MLflow tracking and registry REST API as the platform uses it (2.x and 3.x servers). Shapes follow
 * the server's JSON; only the fields the platform reads are typed. Every method throws `MlflowError`.
 */

export interface KeyValue {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: 'active' | 'deleted';
  tags?: KeyValue[];
}

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface RunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage: 'active' | 'deleted';
}

export interface Metric {
  key: string;
  /**
   * NaN and ±Infinity travel as the strings "NaN", "Infinity", "-Infinity" on the wire (a bare JSON NaN token is
   * lost by the server). The SQL store keeps ±Infinity as ±Number.MAX_VALUE; the adapter reads both as ±Infinity.
   */
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface DatasetInput {
  tags?: KeyValue[];
  dataset: {
    name: string;
    digest: string;
    source_type: string;
    source: string;
    schema?: string;
    profile?: string;
  };
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: { dataset_inputs?: DatasetInput[] };
}

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  source: string;
  run_id?: string;
  status?: 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';
  tags?: KeyValue[];
  aliases?: string[];
  description?: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  tags?: KeyValue[];
  aliases?: { alias: string; version: string }[];
  latest_versions?: ModelVersion[];
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

export interface SearchRunsRequest {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
  viewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
}

export interface LogBatchRequest {
  runId: string;
  metrics?: Metric[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

export interface ArtifactFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/**
 * The adapter over the REST API. Retries are the caller's (outbox, activities): see `MlflowError.retryable`.
 * `createMlflowClient` implements it.
 */
export interface MlflowApi {
  /** Base URL of the tracking server, e.g. http://127.0.0.1:5000 (no trailing slash). */
  readonly baseUrl: string;
  /** Link into the MLflow UI for a run (and its experiment). */
  runUrl(experimentId: string, runId: string): string;
  modelVersionUrl(name: string, version: string): string;
  /** GET /health — latency in ms; throws when the server is down. */
  health(): Promise<{ latencyMs: number; version: string | null }>;

  getExperimentByName(name: string): Promise<Experiment | null>;
  /** Also returns deleted experiments (lifecycle_stage 'deleted'); null when the id is unknown. */
  getExperiment(experimentId: string): Promise<Experiment | null>;
  /** Soft-deletes the experiment (its name stays taken until it is restored or purged). */
  deleteExperiment(experimentId: string): Promise<void>;
  createExperiment(name: string, tags?: KeyValue[]): Promise<string>;
  /** Finds the experiment by name, creates it when missing (a racing create is fine); restores a deleted one. */
  ensureExperiment(name: string, tags?: KeyValue[]): Promise<Experiment>;

  createRun(input: {
    experimentId: string;
    runName?: string;
    startTime?: number;
    tags?: KeyValue[];
  }): Promise<Run>;
  getRun(runId: string): Promise<Run | null>;
  searchRuns(request: SearchRunsRequest): Promise<Page<Run>>;
  updateRun(input: { runId: string; status?: RunStatus; endTime?: number; runName?: string }): Promise<void>;
  setTag(runId: string, key: string, value: string): Promise<void>;
  /** One log-batch call; the caller keeps each call within the limits (see `batchLimits`). */
  logBatch(request: LogBatchRequest): Promise<void>;
  logInputs(runId: string, datasets: DatasetInput[]): Promise<void>;
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;

  /** Uploads bytes to `<run artifact root>/<path>` through the server's artifact proxy. */
  uploadArtifact(run: RunInfo, path: string, body: Uint8Array): Promise<void>;
  listArtifacts(runId: string, path?: string): Promise<ArtifactFile[]>;

  getRegisteredModel(name: string): Promise<RegisteredModel | null>;
  /** Creates the registered model when missing (RESOURCE_ALREADY_EXISTS is success). */
  ensureRegisteredModel(name: string, tags?: KeyValue[]): Promise<RegisteredModel>;
  searchRegisteredModels(input: {
    filter?: string;
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<RegisteredModel>>;
  createModelVersion(input: {
    name: string;
    source: string;
    runId?: string;
    tags?: KeyValue[];
    description?: string;
  }): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion | null>;
  searchModelVersions(input: {
    filter?: string;
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<ModelVersion>>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  deleteAlias(name: string, alias: string): Promise<void>;
  getVersionByAlias(name: string, alias: string): Promise<ModelVersion | null>;
}
