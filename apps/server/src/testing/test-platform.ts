import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadPlatformConfig, type PlatformConfig } from '@llmops/config';
import {
  createLocalArtifactStore,
  createServices,
  createTrackingService,
  type GpuDetection,
  type JobLogLocator,
  type DeploymentOrchestrator,
  type JobOrchestrator,
  type PlatformContext,
  type MlflowApi,
  type PromotionGate,
  type ServingRuntime,
  type Services,
} from '@llmops/core';
import { createTestDb, QUICKSTART_DATASET, QUICKSTART_MODEL, type TestDb } from '@llmops/testing';
import { buildApp, type App, type AppOptions } from '../app.ts';

export interface TestPlatform {
  app: App;
  db: TestDb;
  services: Services;
  platform: PlatformContext;
  adminToken: string;
  home: string;
  as(token: string, project?: string): Client;
  close(): Promise<void>;
}

export interface Reply<T = any> {
  status: number;
  body: { status: 'success' | 'error'; message: string; data: T };
  headers: Record<string, unknown>;
}

export interface Client {
  get<T = any>(url: string): Promise<Reply<T>>;
  post<T = any>(url: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  patch<T = any>(url: string, body?: unknown): Promise<Reply<T>>;
  delete<T = any>(url: string): Promise<Reply<T>>;
}

const NO_GPU: GpuDetection = { state: 'absent', count: 0, models: [], reason: 'test machine without GPU' };

/** The real app on a real (PGlite or PostgreSQL) database, driven through app.inject(). */
export async function createTestPlatform(
  opts: {
    config?: (c: PlatformConfig) => PlatformConfig;
    gpu?: GpuDetection;
    bodyLimitBytes?: number;
    uploadLimitBytes?: number;
    orchestrator?: JobOrchestrator;
    logs?: JobLogLocator;
    /** The MLflow client for the registry and experiments routes (a real server or an in-memory one). */
    mlflow?: MlflowApi;
    promotionGates?: PromotionGate[];
    /** Rollout workflows and the serving runtime (driver, routing tables, telemetry) for serving tests. */
    deployments?: DeploymentOrchestrator;
    servingRuntime?: ServingRuntime | ((db: TestDb) => ServingRuntime);
    /** A built web console to serve at `/`. */
    consoleDir?: string;
    /** Integration addresses and feature flags for GET /integrations. */
    integrations?: AppOptions['integrations'];
  } = {},
): Promise<TestPlatform> {
  const db = await createTestDb();
  const home = await mkdtemp(join(tmpdir(), 'llmops-test-'));
  const base = loadPlatformConfig({ environment: 'dev' });
  const config = opts.config ? opts.config(base) : base;
  const platform: PlatformContext = { config, gpuPreference: 'auto', gpu: opts.gpu ?? NO_GPU };
  const servingRuntime =
    typeof opts.servingRuntime === 'function' ? opts.servingRuntime(db) : (opts.servingRuntime ?? null);
  const services = createServices({
    db,
    platform,
    store: createLocalArtifactStore(join(home, 'artifacts')),
    orchestrator: () => opts.orchestrator ?? null,
    logs: opts.logs ?? null,
    mlflow: opts.mlflow ?? null,
    promotionGates: opts.promotionGates ?? [],
    deployments: () => opts.deployments ?? null,
    servingRuntime: () => servingRuntime,
  });
  const adminToken = `test-admin-${randomBytes(12).toString('hex')}`;
  await services.identity.bootstrap({ bootstrapToken: adminToken });
  const app = await buildApp({
    services,
    platform,
    version: 'test',
    checkDatabase: async () => {
      await db.sql.query('SELECT 1');
    },
    bodyLimitBytes: opts.bodyLimitBytes ?? config.policies.request_body_limit_bytes,
    uploadLimitBytes: opts.uploadLimitBytes ?? config.policies.upload_limit_bytes,
    // Experiment tracking follows the MLflow client: on when one is given.
    tracking: opts.mlflow ? createTrackingService({ db, mlflow: opts.mlflow }) : null,
    consoleDir: opts.consoleDir ?? null,
    integrations: opts.integrations ?? null,
  });
  await app.ready();

  const as = (token: string, project?: string): Client => {
    const headers = (extra: Record<string, string> = {}) => ({
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(project ? { 'x-project': project } : {}),
      ...extra,
    });
    const send = async (
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: string,
      body?: unknown,
      extra?: Record<string, string>,
    ) => {
      const res = await app.inject({
        method,
        url,
        headers: headers(extra),
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: res.statusCode, body: res.json(), headers: res.headers } as Reply;
    };
    return {
      get: (url) => send('GET', url),
      post: (url, body, extra) => send('POST', url, body ?? {}, extra),
      patch: (url, body) => send('PATCH', url, body ?? {}),
      delete: (url) => send('DELETE', url),
    };
  };

  return {
    app,
    db,
    services,
    platform,
    adminToken,
    home,
    as,
    async close() {
      await app.close();
      await db.cleanup();
      await rm(home, { recursive: true, force: true });
    },
  };
}

export const API = '/llm-ops/v1';

export {
  QUICKSTART_MODEL,
  QUICKSTART_DATASET,
  quickstartJobBody,
  quickstartEndpointBody,
} from '@llmops/testing';

/** Registers the quickstart base model, dataset and the SFT output model; returns their ids. */
export async function seedQuickstart(client: Client) {
  const model = await client.post(`${API}/catalog/models`, QUICKSTART_MODEL);
  const dataset = await client.post(`${API}/catalog/datasets`, QUICKSTART_DATASET);
  const sft = await client.post(`${API}/catalog/models`, { ...QUICKSTART_MODEL, name: 'llama-3-8b-sft-v1' });
  if (model.status !== 201 || dataset.status !== 201 || sft.status !== 201)
    throw new Error(`seeding failed: ${JSON.stringify([model.body, dataset.body, sft.body])}`);
  return {
    modelId: model.body.data.id as string,
    datasetId: dataset.body.data.id as string,
    sftModelId: sft.body.data.id as string,
  };
}
