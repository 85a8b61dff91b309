import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  createTestPlatform,
  quickstartEndpointBody,
  quickstartJobBody,
  type TestPlatform,
} from '../../server/src/testing/test-platform.ts';
import { runCli } from './run.ts';

let p: TestPlatform;
let url: string;
let dir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** One command line against the in-process platform, with the admin token and an empty config dir. */
async function cli(argv: string[], env: Record<string, string> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'config'),
      LLMOPS_HOME: join(dir, 'home'),
      LLMOPS_URL: url,
      LLMOPS_TOKEN: p.adminToken,
      ...env,
    },
    cwd: dir,
  });
  return { code, stdout, stderr };
}

async function json<T = any>(argv: string[]): Promise<T> {
  const r = await cli([...argv, '-o', 'json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise((res) => server.close(res));
  return port;
}

const jobBody = () => quickstartJobBody(undefined as never, undefined as never);

beforeAll(async () => {
  p = await createTestPlatform();
  url = await p.app.listen({ port: 0, host: '127.0.0.1' });
  dir = await mkdtemp(join(tmpdir(), 'llmops-cli-'));
  const { modelId: _m, datasetId: _d, ...job } = jobBody();
  await writeFile(join(dir, 'job.yaml'), YAML.stringify(job));
  const bad = structuredClone(job);
  bad.trainJobSpec.resources.gpu_type = 'H999';
  await writeFile(join(dir, 'bad-gpu.yaml'), YAML.stringify(bad));
  await writeFile(join(dir, 'no-spec.json'), JSON.stringify({ jobType: 'finetune' }));
  const { modelId: _e, ...endpoint } = quickstartEndpointBody('');
  await writeFile(join(dir, 'endpoint.yaml'), YAML.stringify(endpoint));
  await writeFile(
    join(dir, 'pairs.jsonl'),
    '{"prompt":"Hi","completion":"Hello"}\n{"prompt":"2+2","completion":"4"}\n',
  );
});
afterAll(async () => {
  await p?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('llmops against a running platform', () => {
  it('registers models and datasets and lists them', async () => {
    for (const name of ['llama-3-8b-pretrain-v1', 'llama-3-8b-sft-v1']) {
      const r = await cli([
        'models',
        'create',
        name,
        '--family',
        'llama',
        '--max-position-embeddings',
        '8192',
        '--parameter-count',
        '8000000000',
      ]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(
        new RegExp(`^Model registered: [0-9a-f-]{36}\\n[\\s\\S]*^name: +${name}$`, 'm'),
      );
    }
    const ref = await cli([
      'datasets',
      'create',
      'enterprise-instruction',
      'v1',
      '--type',
      'sft_pair',
      '--storage-uri',
      's3://llm-datasets/enterprise-instruction/v1',
    ]);
    expect(ref.code).toBe(0);

    const models = await cli(['models', 'list']);
    expect(models.stdout).toMatch(/^ID +NAME +VERSION +FAMILY/);
    expect(models.stdout).toMatch(/ llama-3-8b-sft-v1 +1 +llama +8192 +8B /);
    const datasets = await json<{ items: { name: string; type: string }[] }>(['datasets', 'list']);
    expect(datasets.items).toEqual([
      expect.objectContaining({ name: 'enterprise-instruction', type: 'sft_pair' }),
    ]);
  });

  it('uploads a dataset file, which the server checks row by row', async () => {
    const r = await cli(['datasets', 'create', 'pairs', 'v1', '--type', 'sft_pair', '--file', 'pairs.jsonl']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Dataset uploaded and validated: /);
    expect(r.stdout).toMatch(/^rows: +2$/m);
    expect(r.stdout).toContain('Validation: 2 of 2 row(s) valid');
  });

  it('submit --dry-run of a valid job prints the verdict, the image and the estimates', async () => {
    const r = await cli(['submit', '-f', 'job.yaml', '--dry-run']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^verdict: +valid$/m);
    expect(r.stdout).toMatch(/^image: +\S+train-sft\S+ \(cpu\)$/m);
    expect(r.stdout).toMatch(/^est\. cost: +\$\d+\.\d\d$/m);
    expect((await json(['jobs', 'list'])).total).toBe(0);
  });

  it('submit --dry-run of an invalid job lists the violations and exits 1', async () => {
    const r = await cli(['submit', '-f', 'bad-gpu.yaml', '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^verdict: +INVALID \(1 violation\(s\)\)$/m);
    expect(r.stdout).toMatch(/^GPU_TYPE_NOT_AVAILABLE +trainJobSpec\.resources\.gpu_type +GPU type 'H999'/m);
    const shape = await cli(['submit', '-f', 'no-spec.json', '--dry-run', '-o', 'json']);
    expect(shape.code).toBe(1);
    expect(JSON.parse(shape.stdout)).toMatchObject({
      valid: false,
      violations: [{ code: 'SCHEMA_REQUIRED', path: 'trainJobSpec' }],
    });
  });

  it('submit stores the job, jobs list shows it, and the same idempotency key returns the same job', async () => {
    const first = await cli(['submit', '-f', 'job.yaml', '--idempotency-key', 'nightly-1']);
    expect(first.code).toBe(0);
    const id = /^Job submitted: (\S+)$/m.exec(first.stdout)?.[1];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const list = await cli(['jobs', 'list', '--status', 'QUEUED', '--type', 'finetune']);
    expect(list.stdout).toMatch(new RegExp(`^${id} +finetune +SFT +QUEUED +yes `, 'm'));
    expect((await cli(['jobs', 'list', '--status', 'RUNNING'])).stdout).toBe('(no jobs)\n');

    const again = await cli(['submit', '-f', 'job.yaml', '--idempotency-key', 'nightly-1']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^Job already submitted with this Idempotency-Key: ${id}$`, 'm'));
    expect((await json(['jobs', 'list'])).total).toBe(1);

    expect((await json(['jobs', 'get', id!])).id).toBe(id);
    const yaml = YAML.parse((await cli(['jobs', 'get', id!, '-o', 'yaml'])).stdout);
    expect(yaml.submission.trainJobSpec.resources.gpu_type).toBe('A100');
    const events = await cli(['jobs', 'events', id!]);
    expect(events.stdout).toMatch(/ submitted +- +QUEUED /);
  });

  it('submit of an invalid job prints error and violation lines on stderr, no stack, and exits 1', async () => {
    const r = await cli(['submit', '-f', 'bad-gpu.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^error: .+\n {2}GPU_TYPE_NOT_AVAILABLE at trainJobSpec\.resources\.gpu_type: GPU type 'H999'/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('explains a file that is missing or not parseable', async () => {
    expect(await cli(['submit', '-f', 'nope.yaml'])).toMatchObject({
      code: 1,
      stderr: 'error: Cannot read nope.yaml: no such file\n',
    });
    await writeFile(
      join(dir, 'broken.yaml'),
      'jobType: finetune\ntrainJobSpec:\n  job_type: SFT\n job_type: x\n',
    );
    const r = await cli(['submit', '-f', 'broken.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: broken\.yaml:4:\d+: not valid YAML: /);
  });

  it('validate jobs reports compliant jobs, then non-compliant ones with fixes after the catalog changes', async () => {
    const ok = await cli(['validate', 'jobs']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^1 job\(s\) checked, 0 non-compliant$/m);
    expect(ok.stdout).toMatch(/ compliant$/m);

    // The base model's record is corrected behind the API: the stored job's max_seq_len no longer fits.
    await p.db.sql.query(
      `UPDATE catalog_models SET max_position_embeddings = 2048 WHERE name = 'llama-3-8b-pretrain-v1'`,
    );
    try {
      const bad = await cli(['validate', 'jobs']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/^1 job\(s\) checked, 1 non-compliant$/m);
      expect(bad.stdout).toMatch(/ NON-COMPLIANT$/m);
      expect(bad.stdout).toMatch(
        /^ {2}MAX_SEQ_LEN_EXCEEDS_MODEL at trainJobSpec\.hyperparams\.max_seq_len: /m,
      );
      expect(bad.stdout).toMatch(/^ {2}fix: \S/m);
    } finally {
      await p.db.sql.query(
        `UPDATE catalog_models SET max_position_embeddings = 8192 WHERE name = 'llama-3-8b-pretrain-v1'`,
      );
    }
    const id = (await json(['jobs', 'list'])).items[0].id;
    expect((await cli(['validate', 'jobs', '--job-id', id])).code).toBe(0);
  });

  it('creates an endpoint from a file and shows it and its deployment', async () => {
    const r = await cli(['endpoints', 'create', '-f', 'endpoint.yaml']);
    expect(r.code).toBe(0);
    // The model has no files, so the endpoint is stored without being deployed, and the reply says why.
    expect(r.stdout).toMatch(/^Endpoint created; not deployed yet: .*has no files/m);
    const id = /^Endpoint created.*: ([0-9a-f-]{36})$/m.exec(r.stdout)?.[1];
    expect((await cli(['endpoints', 'list'])).stdout).toMatch(
      new RegExp(`^${id} +/test-model +dev +llama-3-8b-sft-v1 `, 'm'),
    );
    const dep = await cli(['endpoints', 'deployment', id!]);
    expect(
      YAML.parse(dep.stdout.slice(dep.stdout.indexOf('deploymentSpec:'))).deploymentSpec.rollout,
    ).toEqual({ strategy: 'canary', traffic_split: { old: 90, new: 10 } });
    expect((await cli(['validate', 'endpoints', '--endpoint-id', id!])).code).toBe(0);
  });

  it('audit verify says intact, and broken with the seq once a forged row is inserted', async () => {
    const ok = await cli(['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Audit chain intact: \d+ row\(s\) checked\n$/);
    expect((await cli(['audit', 'list', '--action', 'training.job.submit'])).stdout).toMatch(
      /training\.job\.submit/,
    );

    const [last] = await p.db.sql.query<{ seq: number; hash: string }>(
      `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`,
    );
    await p.db.sql.query(
      `INSERT INTO audit_log (id, at, actor, project_id, action, target_type, result, status_code, prev_hash, hash)
       VALUES ($1, now(), 'user:forger', NULL, 'catalog.model.create', 'model', 'success', 201, $2, $3)`,
      [crypto.randomUUID(), last!.hash, 'f'.repeat(64)],
    );
    const broken = await cli(['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(new RegExp(`^Audit chain BROKEN at seq ${Number(last!.seq) + 1}: `));
  });

  it('an unreachable URL gives one clear line and exit code 1', async () => {
    const port = await freePort();
    const r = await cli(['jobs', 'list'], { LLMOPS_URL: `http://127.0.0.1:${port}` });
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: Cannot reach the platform at http://127.0.0.1:${port}: is it running? (llmops up)\n`,
    });
  });

  it('login checks the token, saves a private profile, and later commands use it', async () => {
    const bad = await cli(['login', '--url', url, '--token', 'wrong'], { LLMOPS_URL: '', LLMOPS_TOKEN: '' });
    expect(bad.code).toBe(1);
    const r = await cli(['login', '--url', url, '--token', p.adminToken, '--project', 'default'], {
      LLMOPS_URL: '',
      LLMOPS_TOKEN: '',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Logged in to http:\/\/127\.0\.0\.1:\d+ as admin \(organisation admin\), project default \(admin\)$/m,
    );
    const file = join(dir, 'config', 'llmops', 'config.yaml');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(YAML.parse(await readFile(file, 'utf8')).profiles.default).toEqual({
      url,
      token: p.adminToken,
      project: 'default',
    });

    const me = await cli(['whoami'], { LLMOPS_URL: '', LLMOPS_TOKEN: '' });
    expect(me).toMatchObject({ code: 0, stderr: '' });
    expect(me.stdout).toMatch(/^admin \(organisation admin\), project default \(admin\)$/m);
  });

  it('an invalid token is an error with a hint to log in', async () => {
    const r = await cli(['whoami'], { LLMOPS_TOKEN: 'nope' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .+\nhint: log in with `llmops login/);
  });
});
