import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseTarget, featureFlags, loadEnv, loadPlatformConfig, type PlatformEnv } from '@llmops/config';
import {
  createLocalArtifactStore,
  createServices,
  detectGpu,
  mlflowFromEnv,
  servingBackendFromEnv,
  type PlatformContext,
} from '@llmops/core';
import { createDb, type Db } from '@llmops/db';
import { buildApp, type App } from '@llmops/server';
import { logLocator, startExecution } from './execution.ts';
import { integrationsInfo } from './integrations.ts';
import { startServing, type Serving } from './serving.ts';
import { startTracking } from './tracking.ts';

export const VERSION = '0.1.0';

/** Where `llmops up` builds the web console in this install. */
const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** The console folder to serve at `/`; a build that appears there later is served from then on. */
function consoleDir(configured: string | undefined, print: (line: string) => void): string {
  const dir = configured ?? DEFAULT_CONSOLE_DIR;
  if (!existsSync(join(dir, 'index.html')))
    print(
      `console: no build in ${dir} yet, / leads to the API docs until there is one (llmops up builds it; so does node apps/web/scripts/ensure-build.mjs)`,
    );
  return dir;
}

export interface RunningPlatform {
  app: App;
  db: Db;
  env: PlatformEnv;
  url: string;
  close(): Promise<void>;
}

/**
 * The embedded all-in-one process: configuration, database (PGlite or PostgreSQL) with migrations,
 * first-start bootstrap, GPU detection, then the HTTP API. Later the Temporal worker joins it here.
 */
export async function startPlatform(
  opts: { env?: NodeJS.ProcessEnv; print?: (line: string) => void } = {},
): Promise<RunningPlatform> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = loadEnv(opts.env ?? process.env);
  const config = loadPlatformConfig({ environment: env.ENVIRONMENT, dir: env.LLMOPS_CONFIG_DIR });
  await mkdir(env.LLMOPS_HOME, { recursive: true });

  const target = databaseTarget(env);
  const db = await createDb(
    target.kind === 'pglite'
      ? { kind: 'pglite', dataDir: target.dataDir }
      : { kind: 'postgres', url: target.url },
  );
  let serving: Serving | null = null;
  try {
    const { applied } = await db.migrate();
    if (applied.length) print(`database: applied ${applied.length} migration(s) (${target.kind})`);

    const gpu = await detectGpu();
    const platform: PlatformContext = { config, gpuPreference: env.LLMOPS_GPU_PREFERENCE, gpu };
    const store = createLocalArtifactStore(join(env.LLMOPS_HOME, 'artifacts'));
    const servingBackend = servingBackendFromEnv(opts.env ?? process.env);
    serving = await startServing({ env, db, backend: servingBackend, print, config });
    const { runtime: servingRuntime } = serving;
    // The API serves even when the workflow engine is unreachable: jobs are stored and start later (FR-008).
    const execution = await startExecution({ env, db, print, serving: servingRuntime }).catch((e: Error) => {
      print(`execution: unavailable (${e.message}); jobs are stored and start when the platform reconnects`);
      return null;
    });
    // Delivers the tracking outbox to MLflow (or prunes it when tracking is disabled).
    const tracking = startTracking({ env, db, print });
    const services = createServices({
      db,
      platform,
      store,
      orchestrator: () => execution?.orchestrator ?? null,
      logs: execution?.logs ?? logLocator(env),
      // The model registry and the experiments API read MLflow directly.
      mlflow: mlflowFromEnv(env),
      servingBackend,
      deployments: () => execution?.deployments ?? null,
      servingRuntime: () => servingRuntime,
    });
    if (execution) {
      const started = await services.rollouts.deployPending(print);
      if (started) print(`serving: ${started} pending endpoint(s) started deploying`);
    }

    const boot = await services.identity.bootstrap({ bootstrapToken: env.LLMOPS_BOOTSTRAP_TOKEN });
    if (boot.generatedToken) {
      const file = join(env.LLMOPS_HOME, 'admin-token');
      await writeFile(file, `${boot.generatedToken}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
      print(`admin token (shown once, also saved to ${file}): ${boot.generatedToken}`);
    }

    // Keys are kept for policies.idempotency_ttl_hours (≥ 24 h); expired ones are purged hourly.
    const purge = async () => {
      const purged = await db.repos.idempotency.purgeExpired().catch(() => 0);
      if (purged > 0) print(`idempotency: purged ${purged} expired key(s)`);
    };
    await purge();
    const purgeTimer = setInterval(() => void purge(), 3_600_000);
    purgeTimer.unref();

    const served = consoleDir(env.LLMOPS_CONSOLE_DIR, print);
    const app = await buildApp({
      services,
      platform,
      version: VERSION,
      checkDatabase: async () => {
        await db.sql.query('SELECT 1');
      },
      bodyLimitBytes: config.policies.request_body_limit_bytes,
      uploadLimitBytes: config.policies.upload_limit_bytes,
      logger: env.LOG_LEVEL === 'silent' ? false : { level: env.LOG_LEVEL },
      tracking: tracking.service,
      consoleDir: served,
      integrations: integrationsInfo(env),
    });
    await app.listen({ port: env.PORT, host: env.HOST });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : env.PORT;
    const url = `http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}:${port}`;
    const flags = featureFlags(env);
    print(`LLM Ops Platform ${VERSION} (${env.ENVIRONMENT}) listening on ${url}`);
    print(`  execution: ${execution ? execution.describe : 'off'}`);
    print(`  tracking: ${tracking.describe}`);
    print(`  serving: ${serving.describe}`);
    const servingHandle = serving;
    print(`  console: ${url}/`);
    print(
      `  API ${url}/llm-ops/v1 · docs ${url}/llm-ops/v1/docs · GPU ${gpu.state} (${gpu.reason}) · tracking ${flags.experimentTracking.enabled ? 'on' : 'off'}`,
    );
    return {
      app,
      db,
      env,
      url,
      async close() {
        clearInterval(purgeTimer);
        await app.close();
        await tracking.close();
        await execution?.close();
        await servingHandle.close();
        await db.close();
      },
    };
  } catch (e) {
    await serving?.close().catch(() => undefined);
    await db.close();
    throw e;
  }
}
