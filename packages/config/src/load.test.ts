import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { ENVIRONMENTS, JOB_TYPES, SERVE_TARGETS } from '@llmops/spec';
import { ConfigError, isConfigError } from './errors.ts';
import { defaultConfigDir, loadPlatformConfig } from './load.ts';
import { familyConfig, findGpuType, gpuTypesFor } from './lookup.ts';

type Tree = Record<string, unknown>;
const shippedBase = (): Tree =>
  parse(readFileSync(join(defaultConfigDir(), 'platform.yaml'), 'utf8')) as Tree;

let dir: string;
let label: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmops-config-'));
  label = basename(dir);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

function write(file: string, content: Tree | string): void {
  writeFileSync(join(dir, file), typeof content === 'string' ? content : stringify(content));
}

function loadError(environment: (typeof ENVIRONMENTS)[number] = 'dev'): ConfigError {
  try {
    loadPlatformConfig({ environment, dir });
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  throw new Error('expected loadPlatformConfig to throw');
}

describe('shipped configuration', () => {
  it.each(ENVIRONMENTS)('loads for %s with both image variants of every job type and serve target', (env) => {
    const config = loadPlatformConfig({ environment: env });
    expect(config.environment).toBe(env);
    expect(config.sources).toEqual(['config/platform.yaml', `config/platform.${env}.yaml`]);
    for (const jobType of JOB_TYPES) {
      expect(config.images.train[jobType].gpu).toMatch(/:[\w.-]+-gpu/);
      expect(config.images.train[jobType].cpu).toMatch(/:[\w.-]+-cpu/);
    }
    for (const target of SERVE_TARGETS) {
      expect(config.images.serve[target].gpu).not.toBe(config.images.serve[target].cpu);
    }
    expect(gpuTypesFor(config).length).toBeGreaterThan(0);
  });

  it('offers the A100 80 GiB of the quickstart submission in dev', () => {
    const config = loadPlatformConfig({ environment: 'dev' });
    expect(findGpuType(config, 'A100')).toMatchObject({ memory_gib: 80 });
    expect(findGpuType(config, 'a100')).toBeUndefined();
    expect(findGpuType(config, 'H100')).toBeUndefined();
    expect(findGpuType(config, 'H100', 'prod')).toMatchObject({ memory_gib: 80 });
  });

  it('allows bert only for EMBEDDING and keeps decoders away from it', () => {
    const config = loadPlatformConfig({ environment: 'prod' });
    expect(familyConfig(config, 'bert')?.allowed_job_types).toEqual(['EMBEDDING']);
    expect(familyConfig(config, 'llama')?.hf_architectures).toEqual(['LlamaForCausalLM']);
    expect(familyConfig(config, 'llama')?.allowed_job_types).not.toContain('EMBEDDING');
    expect(familyConfig(config, 'gpt-j')).toBeUndefined();
    expect(familyConfig(config, 'constructor')).toBeUndefined();
  });

  it('applies the overlay policies and keeps the base defaults for the rest', () => {
    const prod = loadPlatformConfig({ environment: 'prod' });
    expect(prod.policies.max_gpus_per_job).toBe(64);
    expect(prod.policies.default_priority).toBe(50);
    expect(prod.policies.fit_check).toEqual({ enabled: true, headroom: 0.9 });
    expect(prod.policies.request_body_limit_bytes).toBe(1024 * 1024);
  });

  it('returns a frozen configuration so no caller can change it for the others', () => {
    const config = loadPlatformConfig({ environment: 'dev' });
    expect(() => {
      (config.policies as { default_priority: number }).default_priority = 1;
    }).toThrow(TypeError);
  });
});

describe('loadPlatformConfig errors', () => {
  it('names file, path and "Required" for a missing cpu variant', () => {
    const base = shippedBase();
    delete ((base.images as Tree).train as Record<string, Tree>).SFT!.cpu;
    write('platform.yaml', base);
    const error = loadError();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${label}/platform.yaml: images.train.SFT.cpu: Required`);
  });

  it('rejects an unknown key in the overlay and lists the allowed ones', () => {
    write('platform.yaml', shippedBase());
    write('platform.dev.yaml', { policies: { fit_check: { enabld: false } } });
    expect(loadError().message).toBe(
      `${label}/platform.dev.yaml: policies.fit_check.enabld: unknown key (expected one of: enabled, headroom)`,
    );
  });

  it('rejects a negative price in the list that replaced the base list', () => {
    write('platform.yaml', shippedBase());
    write('platform.dev.yaml', {
      gpu_types: { dev: [{ name: 'T4', memory_gib: 16, price_per_gpu_hour: -0.5, max_per_node: 4 }] },
    });
    expect(loadError().message).toBe(
      `${label}/platform.dev.yaml: gpu_types.dev[0].price_per_gpu_hour: must be a price in USD per GPU-hour, 0 or more`,
    );
  });

  it('reports a YAML syntax error with file, line and column', () => {
    write('platform.yaml', 'images:\n  train: [a, b\npolicies: {}\n');
    const error = loadError();
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(new RegExp(`^${label}/platform\\.yaml:3:1: .+`));
  });

  it('reports a duplicate key as a YAML error', () => {
    write('platform.yaml', 'policies:\n  default_priority: 1\n  default_priority: 2\n');
    expect(loadError().message).toBe(`${label}/platform.yaml:3:3: Map keys must be unique`);
  });

  it('reports syntax errors of base and overlay together', () => {
    write('platform.yaml', 'a: [\n');
    write('platform.stg.yaml', 'b: }\n');
    const locations = loadError('stg').issues.map((issue) => issue.location.split(':')[0]);
    expect(new Set(locations)).toEqual(new Set([`${label}/platform.yaml`, `${label}/platform.stg.yaml`]));
  });

  it('requires the base file and says how to point at another directory', () => {
    expect(loadError().message).toBe(
      `${label}/platform.yaml: file not found (set LLMOPS_CONFIG_DIR to the directory that holds platform.yaml)`,
    );
  });

  it('rejects a top level that is not a mapping', () => {
    write('platform.yaml', '- just\n- a list\n');
    expect(loadError().message).toBe(
      `${label}/platform.yaml: the top level must be a mapping of keys to values`,
    );
  });

  it('rejects a moving "latest" tag and an unpinned image', () => {
    write('platform.yaml', shippedBase());
    write('platform.prod.yaml', {
      images: {
        serve: { RAG: { gpu: 'ghcr.io/llm-ops/serve-rag:latest', cpu: 'ghcr.io/llm-ops/serve-rag' } },
      },
    });
    expect(loadError('prod').message).toBe(
      [
        `${label}/platform.prod.yaml: images.serve.RAG.gpu: "ghcr.io/llm-ops/serve-rag:latest" uses the moving tag "latest"; pin a version or a digest`,
        `${label}/platform.prod.yaml: images.serve.RAG.cpu: "ghcr.io/llm-ops/serve-rag" must pin a tag or a digest (for example ":0.1.0-gpu" or "@sha256:…")`,
      ].join('\n'),
    );
  });

  it('accepts a digest-pinned image from another registry in an overlay', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    write('platform.yaml', shippedBase());
    write('platform.prod.yaml', {
      images: { train: { SFT: { gpu: `registry.example.internal:5000/llm-ops/train-sft@${digest}` } } },
    });
    const config = loadPlatformConfig({ environment: 'prod', dir });
    expect(config.images.train.SFT.gpu).toBe(`registry.example.internal:5000/llm-ops/train-sft@${digest}`);
    expect(config.images.train.SFT.cpu).toBe('ghcr.io/llm-ops/train-sft:0.1.0-cpu');
  });

  it('rejects duplicate GPU type names in one environment', () => {
    write('platform.yaml', shippedBase());
    const t4 = { name: 'T4', memory_gib: 16, price_per_gpu_hour: 0.35, max_per_node: 4 };
    write('platform.dev.yaml', { gpu_types: { dev: [t4, { ...t4, name: 't4' }] } });
    expect(loadError().message).toBe(
      `${label}/platform.dev.yaml: gpu_types.dev[1].name: duplicate GPU type "t4" (already listed at index 0)`,
    );
  });

  it('rejects a serve target no allowed job type can produce', () => {
    write('platform.yaml', shippedBase());
    write('platform.dev.yaml', { model_families: { bert: { serve_targets: ['RAG', 'GENERATION'] } } });
    expect(loadError().message).toBe(
      `${label}/platform.dev.yaml: model_families.bert.serve_targets[1]: serve target GENERATION is not reachable from any allowed job type (EMBEDDING)`,
    );
  });

  it('names both files when a key is missing from a mapping both of them build', () => {
    const base = shippedBase();
    delete ((base.images as Tree).train as Record<string, Tree>).RLHF!.cpu;
    write('platform.yaml', base);
    write('platform.stg.yaml', {
      images: { train: { RLHF: { gpu: 'ghcr.io/llm-ops/train-rlhf:0.2.0-gpu' } } },
    });
    expect(loadError('stg').message).toBe(
      `${label}/platform.yaml, ${label}/platform.stg.yaml: images.train.RLHF.cpu: Required`,
    );
  });

  it('blames the overlay whose null removed a required key', () => {
    write('platform.yaml', shippedBase());
    write('platform.prod.yaml', { images: { serve: { GENERATION: null } } });
    expect(loadError('prod').message).toBe(`${label}/platform.prod.yaml: images.serve.GENERATION: Required`);
  });
});

describe('loadPlatformConfig merging', () => {
  it('works without an overlay file', () => {
    write('platform.yaml', shippedBase());
    const config = loadPlatformConfig({ environment: 'stg', dir });
    expect(config.sources).toEqual([`${label}/platform.yaml`]);
  });

  it('lets an overlay null remove a family', () => {
    write('platform.yaml', shippedBase());
    write('platform.prod.yaml', { model_families: { phi3: null } });
    const config = loadPlatformConfig({ environment: 'prod', dir });
    expect(familyConfig(config, 'phi3')).toBeUndefined();
    expect(familyConfig(config, 'llama')).toBeDefined();
  });

  it('fills omitted policies with their defaults', () => {
    const base = shippedBase();
    delete base.policies;
    write('platform.yaml', base);
    const config = loadPlatformConfig({ environment: 'dev', dir });
    expect(config.policies).toEqual({
      max_gpus_per_job: 16,
      max_nodes_per_job: 4,
      default_priority: 50,
      idempotency_ttl_hours: 48,
      fit_check: { enabled: true, headroom: 0.9 },
      request_body_limit_bytes: 1048576,
      upload_limit_bytes: 268435456,
    });
  });

  it('reads the directory named by LLMOPS_CONFIG_DIR when no dir is passed', () => {
    write('platform.yaml', shippedBase());
    write('platform.dev.yaml', { policies: { default_priority: 70 } });
    vi.stubEnv('LLMOPS_CONFIG_DIR', dir);
    expect(loadPlatformConfig({ environment: 'dev' }).policies.default_priority).toBe(70);
  });

  it('rejects an environment outside dev, stg and prod', () => {
    expect(() => loadPlatformConfig({ environment: 'production' as never, dir })).toThrow(
      'environment: expected one of dev, stg, prod, got "production"',
    );
  });
});
