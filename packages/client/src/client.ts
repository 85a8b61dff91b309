import { createTransport, type RequestOptions, type Transport, type TransportOptions } from './http.ts';
import { inferenceApi } from './inference.ts';
import { streamJobLogs } from './job-stream.ts';
import { datasetForm } from './upload.ts';
import type {
  AddMember,
  ApiToken,
  AuditEntry,
  AuditQuery,
  AuditVerification,
  CreatedToken,
  CreateDataset,
  CreateEndpoint,
  CreateModel,
  CreateProject,
  CreateToken,
  Dataset,
  DatasetQuery,
  DatasetUpload,
  DeploymentView,
  Endpoint,
  EndpointEvent,
  EndpointRevision,
  EndpointStatus,
  Environment,
  GpuType,
  Health,
  IdempotencyOptions,
  JobEvent,
  JobLogs,
  JobLogsQuery,
  JobQuery,
  Member,
  Model,
  ModelQuery,
  Page,
  PageQuery,
  Project,
  RetryJob,
  RevalidateEndpointsQuery,
  RevalidateJobsQuery,
  RevalidationReport,
  RolloutRequest,
  StreamJobLogsOptions,
  SubmitJob,
  TrainingJob,
  ValidationResult,
  Whoami,
} from './types.ts';

export type ClientOptions = TransportOptions;

const seg = (id: string) => encodeURIComponent(id);
const idempotency = (o?: IdempotencyOptions) => ({ 'idempotency-key': o?.idempotencyKey });

/** The three verbs every resource group is written with. */
function verbs(transport: Transport) {
  const call = async <T>(method: string, path: string, opts?: RequestOptions): Promise<T> =>
    (await transport.send<T>(method, path, opts)).data;
  const get = <T>(path: string, query?: RequestOptions['query']) => call<T>('GET', path, { query });
  const post = <T>(path: string, json: unknown, opts: Omit<RequestOptions, 'json'> = {}) =>
    call<T>('POST', path, { ...opts, json });
  return { call, get, post, transport };
}
type Verbs = ReturnType<typeof verbs>;

function identityApi({ call, get, post }: Verbs) {
  return {
    whoami: () => get<Whoami>('/whoami'),
    projects: {
      list: () => get<Project[]>('/projects'),
      create: (body: CreateProject) => post<Project>('/projects', body),
    },
    members: {
      list: () => get<Member[]>('/members'),
      add: (body: AddMember) => post<Member>('/members', body),
      remove: (userId: string) => call<null>('DELETE', `/members/${seg(userId)}`),
    },
    tokens: {
      list: () => get<ApiToken[]>('/tokens'),
      create: (body: CreateToken) => post<CreatedToken>('/tokens', body),
      revoke: (tokenId: string) => call<null>('DELETE', `/tokens/${seg(tokenId)}`),
    },
  };
}

function catalogApi({ call, get, post }: Verbs) {
  return {
    models: {
      list: (q: ModelQuery = {}) => get<Page<Model>>('/catalog/models', { ...q }),
      get: (id: string) => get<Model>(`/catalog/models/${seg(id)}`),
      create: (body: CreateModel) => post<Model>('/catalog/models', body),
    },
    datasets: {
      list: (q: DatasetQuery = {}) => get<Page<Dataset>>('/catalog/datasets', { ...q }),
      get: (id: string) => get<Dataset>(`/catalog/datasets/${seg(id)}`),
      /** Registers a dataset that already lives in storage. */
      create: (body: CreateDataset) => post<Dataset>('/catalog/datasets', body),
      /** Uploads a JSONL/CSV file; the server checks every row against the type before storing it. */
      upload: async (upload: DatasetUpload) =>
        call<Dataset>('POST', '/catalog/datasets', { form: await datasetForm(upload), untimed: true }),
    },
  };
}

function trainingApi({ call, get, post, transport }: Verbs) {
  const job = (id: string, action = '') => `/training/jobs/${seg(id)}${action}`;
  // The controls answer 202: the workflow engine acts on them shortly; the job returned is as it stands.
  // Without a workflow engine they fail with UNAVAILABLE (503).
  const control = (action: string) => (id: string) => call<TrainingJob>('POST', job(id, `/${action}`));
  return {
    jobs: {
      submit: (body: SubmitJob, opts?: IdempotencyOptions) =>
        post<TrainingJob>('/training/jobs', body, { headers: idempotency(opts) }),
      validate: (body: SubmitJob) => post<ValidationResult>('/training/jobs/validate', body),
      list: (q: JobQuery = {}) => get<Page<TrainingJob>>('/training/jobs', { ...q }),
      /** With `queue` (position, estimated start) while the job is QUEUED. */
      get: (id: string) => get<TrainingJob>(job(id)),
      events: (id: string) => get<JobEvent[]>(job(id, '/events')),
      /** Stops the job; a running process is stopped and nothing is left running. */
      cancel: control('cancel'),
      /** A running job writes a checkpoint and stops, freeing its GPUs. */
      pause: control('pause'),
      /** Continues a paused job from its checkpoint. */
      resume: control('resume'),
      /** A new attempt of a FAILED or CANCELLED job, from the given checkpoint or else the latest. */
      retry: (id: string, body: RetryJob = {}) => post<TrainingJob>(job(id, '/retry'), body),
      /** 0-100; reorders the queue. */
      setPriority: (id: string, priority: number) =>
        call<TrainingJob>('PATCH', job(id, '/priority'), { json: { priority } }),
      /** The last lines of an attempt's log (default: the latest attempt, 500 lines). */
      logs: (id: string, q: JobLogsQuery = {}) => get<JobLogs>(job(id, '/logs'), { ...q }),
      /**
       * The live log as Server-Sent Events: the newest attempt's log from its first line, then new lines
       * and status changes until `end`. The server closes a stream after 30 minutes; open it again then.
       */
      streamLogs: (id: string, opts: StreamJobLogsOptions = {}) =>
        streamJobLogs(transport, job(id, '/logs/stream'), opts),
      revalidate: (q: RevalidateJobsQuery = {}) =>
        call<RevalidationReport>('POST', '/training/jobs/revalidate', { query: { ...q } }),
    },
    gpuTypes: (env?: Environment) => get<GpuType[]>('/training/gpu-types', { env }),
  };
}

function servingApi({ call, get, post, transport }: Verbs) {
  const endpoint = (id: string, action = '') => `/serving/endpoints/${seg(id)}${action}`;
  return {
    endpoints: {
      create: (body: CreateEndpoint, opts?: IdempotencyOptions) =>
        post<Endpoint>('/serving/endpoints', body, { headers: idempotency(opts) }),
      validate: (body: CreateEndpoint) => post<ValidationResult>('/serving/endpoints/validate', body),
      list: (q: PageQuery = {}) => get<Page<Endpoint>>('/serving/endpoints', { ...q }),
      get: (id: string) => get<Endpoint>(`/serving/endpoints/${seg(id)}`),
      deployment: (id: string) => get<DeploymentView>(`/serving/endpoints/${seg(id)}/deployment`),
      revalidate: (q: RevalidateEndpointsQuery = {}) =>
        call<RevalidationReport>('POST', '/serving/endpoints/revalidate', { query: { ...q } }),
      /** Revisions with traffic, replicas and health over the last `windowSeconds`; the rollout under way. */
      status: (id: string, q: { windowSeconds?: number } = {}) =>
        get<EndpointStatus>(endpoint(id, '/status'), { ...q }),
      /** Events after `afterSeq` (default: all), oldest first. */
      events: (id: string, q: { afterSeq?: number } = {}) =>
        get<EndpointEvent[]>(endpoint(id, '/events'), { ...q }),
      /** Starts rolling a new revision out (202); the rollout goes on in the workflow engine. */
      rollout: (id: string, body: RolloutRequest) => post<EndpointRevision>(endpoint(id, '/rollouts'), body),
      /** The revision being rolled out takes all live traffic. */
      promote: (id: string) => call<EndpointRevision>('POST', endpoint(id, '/promote')),
      /** Traffic back on the previous revision; the one being rolled out is removed. */
      rollback: (id: string, body: { reason?: string } = {}) =>
        post<EndpointRevision>(endpoint(id, '/rollback'), body),
      /** Stops every model server; the endpoint and its history stay, DELETED. */
      remove: (id: string) => call<Endpoint>('DELETE', endpoint(id)),
    },
    inference: inferenceApi(transport),
  };
}

function auditApi({ get }: Verbs) {
  return {
    audit: {
      list: (q: AuditQuery = {}) => get<Page<AuditEntry>>('/audit', { ...q }),
      verify: () => get<AuditVerification>('/audit/verify'),
    },
  };
}

/** Typed access to /llm-ops/v1: each method resolves to the `data` of the envelope or throws an ApiError. */
export function createClient(options: ClientOptions) {
  const transport = createTransport(options);
  const v = verbs(transport);
  return {
    baseUrl: transport.baseUrl,
    /** The raw envelope, for callers that want the server's message or HTTP status too. */
    send: transport.send,
    health: () => v.get<Health>('/health'),
    /** Resolves once the platform accepts requests; throws UNAVAILABLE (503) while it is starting. */
    ready: () => v.get<{ database: Health['checks'][string] }>('/health/ready'),
    ...identityApi(v),
    ...catalogApi(v),
    ...trainingApi(v),
    ...servingApi(v),
    ...auditApi(v),
  };
}

export type Client = ReturnType<typeof createClient>;
