// Routes the shared client does not wrap yet (registry, experiments, a job's MLflow run): typed by the
// contract's schemas and sent through the client's transport, so errors arrive as the same ApiError.
import type { z } from 'zod';
import type {
  experimentRunSchema,
  integrationsSchema,
  jobExperimentRunSchema,
  modelVersionSchema,
  platformPoliciesSchema,
  registeredModelSchema,
  runComparisonSchema,
} from '@llmops/spec';
import { api } from './session.ts';

export type ExperimentRun = z.output<typeof experimentRunSchema>;
export type RunComparison = z.output<typeof runComparisonSchema>;
export type JobExperimentRun = z.output<typeof jobExperimentRunSchema>;
export type RegisteredModel = z.output<typeof registeredModelSchema>;
export type ModelVersion = z.output<typeof modelVersionSchema>;
export type PlatformPolicies = z.output<typeof platformPoliciesSchema>;
export type Integrations = z.output<typeof integrationsSchema>;

interface Paged<T> {
  items: T[];
  nextPageToken?: string | null;
}

const get = async <T>(path: string, query?: Record<string, string | number | undefined>) =>
  (await api().send<T>('GET', path, { query })).data;
const post = async <T>(path: string, json: unknown) => (await api().send<T>('POST', path, { json })).data;
const seg = encodeURIComponent;

export const experiments = {
  runs: (q: { model?: string; dataset?: string; from?: string; to?: string; limit?: number }) =>
    get<Paged<ExperimentRun>>('/experiments/runs', q),
  compare: (runIds: string[]) => post<RunComparison>('/experiments/compare', { run_ids: runIds }),
  ofJob: (jobId: string) => get<JobExperimentRun>(`/training/jobs/${seg(jobId)}/experiment-run`),
};

export const registry = {
  model: (name: string) => get<RegisteredModel>(`/registry/models/${seg(name)}`),
  versions: (name: string) => get<Paged<ModelVersion>>(`/registry/models/${seg(name)}/versions`),
};

export const governance = {
  policies: () => get<PlatformPolicies>('/governance/policies'),
};

export const integrations = {
  get: () => get<Integrations>('/integrations'),
};
