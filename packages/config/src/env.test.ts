import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isConfigError } from './errors.ts';
import { loadEnv, platformNodeArgs } from './env.ts';
import { databaseTarget, featureFlags } from './features.ts';

const secrets = mkdtempSync(join(tmpdir(), 'llmops-env-'));
afterAll(() => rmSync(secrets, { recursive: true, force: true }));

function secretFile(name: string, content: string): string {
  const path = join(secrets, name);
  writeFileSync(path, content);
  return path;
}

function envError(env: NodeJS.ProcessEnv): string {
  try {
    loadEnv(env);
  } catch (error) {
    if (isConfigError(error)) return error.message;
    throw error;
  }
  throw new Error('expected loadEnv to throw');
}

describe('loadEnv defaults', () => {
  it('fills every default from an empty environment', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      PORT: 8000,
      HOST: '127.0.0.1',
      LLMOPS_HOME: resolve('.llmops'),
      ENVIRONMENT: 'dev',
      LOG_LEVEL: 'info',
      LLMOPS_GPU_PREFERENCE: 'auto',
      EXPERIMENT_TRACKING_ENABLED: true,
      EXPERIMENT_TRACKING_SYSTEM: 'mlflow',
      SERVING_FRAMEWORK_DEFAULT: 'local',
      WORKFLOW_ORCHESTRATION_SYSTEM: 'temporal',
      MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000',
      USE_KSERVE: false,
      KSERVE_NAMESPACE: 'kserve',
      ARGO_WORKFLOWS_NAMESPACE: 'argo',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.LLMOPS_BOOTSTRAP_TOKEN).toBeUndefined();
    expect(env.LLMOPS_CONFIG_DIR).toBeUndefined();
  });

  it('treats an empty assignment as unset', () => {
    expect(loadEnv({ PORT: '', ENVIRONMENT: '', MLFLOW_ENABLED: '' })).toMatchObject({
      PORT: 8000,
      ENVIRONMENT: 'dev',
      MLFLOW_ENABLED: true,
    });
  });

  it('resolves LLMOPS_HOME and LLMOPS_CONFIG_DIR to absolute paths', () => {
    const env = loadEnv({ LLMOPS_HOME: 'data/home', LLMOPS_CONFIG_DIR: '../cfg' });
    expect(isAbsolute(env.LLMOPS_HOME)).toBe(true);
    expect(env.LLMOPS_HOME).toBe(resolve('data/home'));
    expect(env.LLMOPS_CONFIG_DIR).toBe(resolve('../cfg'));
  });

  it('does not look at NODE_ENV', () => {
    expect(loadEnv({ NODE_ENV: 'production' })).toEqual(loadEnv({}));
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadEnv({}))).toBe(true);
  });
});

describe('loadEnv booleans', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['Yes', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['NO', false],
  ])('reads %s as %s', (raw, value) => {
    expect(loadEnv({ DVC_ENABLED: raw, DATA_VERSIONING_ENABLED: 'false' }).DVC_ENABLED).toBe(value);
  });

  it.each(['maybe', '2', 'on', 'y'])('rejects %s naming the variable and the value', (raw) => {
    expect(envError({ USE_KSERVE: raw })).toBe(
      `USE_KSERVE: expected true, false, 1, 0, yes or no, got "${raw}"`,
    );
  });
});

describe('loadEnv errors', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT: expected a whole number from 1 to 65535, got "eighty"'],
    [{ PORT: '70000' }, 'PORT: expected a whole number from 1 to 65535, got "70000"'],
    [{ PORT: '80.5' }, 'PORT: expected a whole number from 1 to 65535, got "80.5"'],
    [{ ENVIRONMENT: 'production' }, 'ENVIRONMENT: expected one of dev, stg, prod, got "production"'],
    [{ LLMOPS_GPU_PREFERENCE: 'GPU' }, 'LLMOPS_GPU_PREFERENCE: expected one of auto, gpu, cpu, got "GPU"'],
    [
      { SERVING_FRAMEWORK_DEFAULT: 'seldon' },
      'SERVING_FRAMEWORK_DEFAULT: expected one of kserve, local, ray, got "seldon"',
    ],
    [
      { MLFLOW_TRACKING_URI: 'mlflow:5000' },
      'MLFLOW_TRACKING_URI: expected a http:// or https:// URL; got "mlflow:5000"',
    ],
    [
      { KSERVE_NAMESPACE: 'LLM_Ops' },
      `KSERVE_NAMESPACE: expected a Kubernetes namespace (lower-case letters, digits and '-', at most 63), got "LLM_Ops"`,
    ],
  ])('rejects %j', (env, message) => {
    expect(envError(env)).toBe(message);
  });

  it('never echoes a DATABASE_URL, which may hold a password', () => {
    const message = envError({ DATABASE_URL: 'mysql://root:hunter2@db/llmops' });
    expect(message).toBe(
      'DATABASE_URL: expected a postgres:// or postgresql:// URL; the value is not shown because it may hold credentials',
    );
    expect(message).not.toContain('hunter2');
  });

  it('reports every bad variable at once', () => {
    expect(envError({ PORT: 'x', LOG_LEVEL: 'loud' }).split('\n')).toEqual([
      'PORT: expected a whole number from 1 to 65535, got "x"',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
  });

  it.each([
    [{ EXPERIMENT_TRACKING_ENABLED: 'true', MLFLOW_ENABLED: 'false' }, 'MLFLOW_ENABLED: is false'],
    [{ SERVING_FRAMEWORK_DEFAULT: 'kserve' }, 'USE_KSERVE: is false but SERVING_FRAMEWORK_DEFAULT=kserve'],
    [{ WORKFLOW_ORCHESTRATION_SYSTEM: 'argo_workflows' }, 'ARGO_WORKFLOWS_ENABLED: is false'],
    [{ HUGGINGFACE_HUB_ENABLED: 'no' }, 'HUGGINGFACE_HUB_ENABLED: is false'],
    [{ DVC_ENABLED: '0' }, 'DVC_ENABLED: is false'],
    [{ KUBERNETES_TOKEN: 'sa-token' }, 'KUBERNETES_TOKEN: is set but KUBERNETES_API_URL is not'],
    [{ KUBERNETES_CA_FILE: '/ca.pem' }, 'KUBERNETES_CA_FILE: is set but KUBERNETES_API_URL is not'],
    [{ KUBERNETES_API_URL: 'k8s:6443' }, 'KUBERNETES_API_URL: expected a http:// or https:// URL'],
  ])('stops on the contradiction %j', (env, start) => {
    expect(envError(env).startsWith(start)).toBe(true);
  });

  it('accepts a disabled tool when its integration is off too', () => {
    expect(() => loadEnv({ EXPERIMENT_TRACKING_ENABLED: 'false', MLFLOW_ENABLED: 'false' })).not.toThrow();
    expect(() => loadEnv({ SERVING_FRAMEWORK_DEFAULT: 'kserve', USE_KSERVE: 'true' })).not.toThrow();
  });
});

describe('loadEnv *_FILE secrets', () => {
  it('reads a secret from its file and drops the trailing newline', () => {
    const env = loadEnv({
      LLMOPS_BOOTSTRAP_TOKEN_FILE: secretFile('token', 's3cret-token\n'),
      DATABASE_URL_FILE: secretFile('db', 'postgres://llmops:pw@db:5432/llmops\n'),
      HUGGINGFACE_HUB_TOKEN_FILE: secretFile('hf', 'hf_abc'),
    });
    expect(env.LLMOPS_BOOTSTRAP_TOKEN).toBe('s3cret-token');
    expect(env.DATABASE_URL).toBe('postgres://llmops:pw@db:5432/llmops');
    expect(env.HUGGINGFACE_HUB_TOKEN).toBe('hf_abc');
  });

  it('validates the value read from the file like a direct one', () => {
    expect(envError({ DATABASE_URL_FILE: secretFile('bad-db', 'sqlite:///x\n') })).toMatch(
      /^DATABASE_URL: expected a postgres/,
    );
  });

  it('refuses both the variable and its file', () => {
    expect(
      envError({ LLMOPS_BOOTSTRAP_TOKEN: 'a', LLMOPS_BOOTSTRAP_TOKEN_FILE: secretFile('t2', 'b') }),
    ).toBe(
      'LLMOPS_BOOTSTRAP_TOKEN_FILE: set either LLMOPS_BOOTSTRAP_TOKEN or LLMOPS_BOOTSTRAP_TOKEN_FILE, not both',
    );
  });

  it('names a missing or empty file', () => {
    const missing = join(secrets, 'absent');
    expect(envError({ HUGGINGFACE_HUB_TOKEN_FILE: missing })).toBe(
      `HUGGINGFACE_HUB_TOKEN_FILE: cannot read file "${missing}" (ENOENT)`,
    );
    const empty = secretFile('empty', '\n');
    expect(envError({ HUGGINGFACE_HUB_TOKEN_FILE: empty })).toBe(
      `HUGGINGFACE_HUB_TOKEN_FILE: file "${empty}" is empty`,
    );
  });
});

describe('featureFlags', () => {
  it('groups the quickstart flags per integration without exposing secrets', () => {
    const flags = featureFlags(
      loadEnv({ SERVING_FRAMEWORK_DEFAULT: 'kserve', USE_KSERVE: 'yes', HUGGINGFACE_HUB_TOKEN: 'hf_secret' }),
    );
    expect(flags).toEqual({
      experimentTracking: { enabled: true, system: 'mlflow', trackingUri: 'http://127.0.0.1:5000' },
      servingFramework: { enabled: true, system: 'kserve', kserve: { enabled: true, namespace: 'kserve' } },
      workflowOrchestration: {
        enabled: true,
        system: 'temporal',
        argoWorkflows: { enabled: false, namespace: 'argo' },
      },
      modelRegistry: {
        enabled: true,
        system: 'huggingface',
        huggingfaceHub: { enabled: true, tokenConfigured: true },
      },
      dataVersioning: { enabled: true, system: 'dvc' },
    });
    expect(JSON.stringify(flags)).not.toContain('hf_secret');
  });

  it('turns every integration off with the rollback flags of quickstart.md §8', () => {
    const flags = featureFlags(
      loadEnv({
        EXPERIMENT_TRACKING_ENABLED: 'false',
        SERVING_FRAMEWORK_ENABLED: 'false',
        WORKFLOW_ORCHESTRATION_ENABLED: 'false',
        MODEL_REGISTRY_ENABLED: 'false',
        DATA_VERSIONING_ENABLED: 'false',
      }),
    );
    expect(Object.values(flags).map((flag) => flag.enabled)).toEqual([false, false, false, false, false]);
  });
});

describe('databaseTarget', () => {
  it('uses embedded PGlite under LLMOPS_HOME/db when DATABASE_URL is absent', () => {
    expect(databaseTarget(loadEnv({ LLMOPS_HOME: 'home' }))).toEqual({
      kind: 'pglite',
      dataDir: resolve('home/db'),
    });
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    expect(databaseTarget(loadEnv({ DATABASE_URL: 'postgresql://db/llmops' }))).toEqual({
      kind: 'postgres',
      url: 'postgresql://db/llmops',
    });
  });
});

describe('platformNodeArgs', () => {
  it('limits the heap of the platform process, 384 MiB unless configured', () => {
    expect(platformNodeArgs({})).toEqual(['--max-old-space-size=384']);
    expect(platformNodeArgs({ LLMOPS_PLATFORM_HEAP_MB: '1024' })).toEqual(['--max-old-space-size=1024']);
  });

  it('refuses a limit too small to run the platform', () => {
    expect(() => platformNodeArgs({ LLMOPS_PLATFORM_HEAP_MB: '64' })).toThrow('LLMOPS_PLATFORM_HEAP_MB');
  });
});

describe('platformNodeArgs with other variables wrong', () => {
  it('reads only the heap limit, so the platform reports the rest itself', () => {
    expect(platformNodeArgs({ ENVIRONMENT: 'bogus', LLMOPS_PLATFORM_HEAP_MB: '' })).toEqual([
      '--max-old-space-size=384',
    ]);
  });
});
