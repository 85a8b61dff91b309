import { describe, expect, it } from 'vitest';
import { humanBytes, humanCount, modelFields } from './catalog.ts';
import { renderAuditVerification, renderRevalidation } from './governance.ts';
import { renderVerdict } from './verdict.ts';

describe('renderRevalidation', () => {
  it('gives each item a verdict and lists violations and fixes of the non-compliant ones', () => {
    const text = renderRevalidation(
      {
        checked: 2,
        nonCompliant: 1,
        items: [
          { id: 'j1', kind: 'job', compliant: true, violations: [], fix: [] },
          {
            id: 'j2',
            kind: 'job',
            compliant: false,
            violations: [
              {
                code: 'GPU_TYPE_NOT_AVAILABLE',
                path: 'trainJobSpec.resources.gpu_type',
                message: 'A100 is gone',
              },
            ],
            fix: ['Choose a GPU type from GET /llm-ops/v1/training/gpu-types'],
          },
        ],
      },
      'job',
    );
    expect(text).toBe(
      '2 job(s) checked, 1 non-compliant\n\n' +
        'ID  VERDICT\nj1  compliant\nj2  NON-COMPLIANT\n\n' +
        'job j2:\n' +
        '  GPU_TYPE_NOT_AVAILABLE at trainJobSpec.resources.gpu_type: A100 is gone\n' +
        '  fix: Choose a GPU type from GET /llm-ops/v1/training/gpu-types\n',
    );
  });

  it('prints only the count when nothing was checked', () => {
    expect(renderRevalidation({ checked: 0, nonCompliant: 0, items: [] }, 'endpoint')).toBe(
      '0 endpoint(s) checked, 0 non-compliant\n',
    );
  });
});

describe('renderAuditVerification', () => {
  it('says intact or broken with the first broken seq', () => {
    expect(renderAuditVerification({ ok: true, checked: 8, firstBrokenSeq: null, reason: null })).toBe(
      'Audit chain intact: 8 row(s) checked\n',
    );
    expect(
      renderAuditVerification({ ok: false, checked: 9, firstBrokenSeq: 9, reason: 'hash mismatch' }),
    ).toBe('Audit chain BROKEN at seq 9: hash mismatch (9 row(s) checked)\n');
  });
});

describe('renderVerdict', () => {
  it('shows the image and estimates of a valid body', () => {
    const text = renderVerdict({
      valid: true,
      violations: [],
      image: { image: 'train-sft:cpu', variant: 'cpu', reason: 'no GPU' },
      estimates: { gpuMemoryPerGpuGib: 16.4, gpuHours: 10, costUsd: 34 },
    });
    expect(text).toMatch(/^verdict: +valid$/m);
    expect(text).toMatch(/^image: +train-sft:cpu \(cpu\)$/m);
    expect(text).toMatch(/^memory\/GPU: +16\.4 GiB$/m);
    expect(text).toMatch(/^est\. cost: +\$34\.00$/m);
  });

  it('counts the violations of an invalid body, lists them and shows no estimates it does not have', () => {
    const text = renderVerdict({
      valid: false,
      violations: [{ code: 'SCHEMA_REQUIRED', path: 'trainJobSpec', message: "'trainJobSpec' is required" }],
      image: null,
      estimates: null,
    });
    expect(text).toMatch(/^verdict: +INVALID \(1 violation\(s\)\)$/m);
    expect(text).toMatch(/^SCHEMA_REQUIRED +trainJobSpec +'trainJobSpec' is required$/m);
    expect(text).not.toContain('est. cost');
  });
});

describe('human units', () => {
  it.each([
    [8_000_000_000, '8B'],
    [1_500_000, '1.5M'],
    [70_600_000_000, '70.6B'],
    [999, '999'],
  ])('%d parameters → %s', (n, text) => expect(humanCount(n)).toBe(text));

  it.each([
    [512, '512 B'],
    [2048, '2.0 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
  ])('%d bytes → %s', (n, text) => expect(humanBytes(n)).toBe(text));
});

describe('modelFields', () => {
  const model = {
    id: 'm1',
    name: 'tiny-llama-sft',
    version: '1',
    model_family: 'llama',
    max_position_embeddings: 64,
    parameter_count: 196_928,
    storage_uri: 's3://models/p/tiny-llama-sft/j2',
    description: null,
    lineage: null,
    created_by: 'system:worker',
    created_at: '2026-11-30T03:10:00.000Z',
  };
  const get = (fields: [string, unknown][], key: string) => fields.find(([k]) => k === key)?.[1];

  it('shows the lineage of a model trained here: job, parent, dataset digest, spec hash, runtime', () => {
    const fields = modelFields({
      ...model,
      lineage: {
        jobId: 'j2',
        specHash: 'abc',
        datasetSha256: 'f00d',
        runtimeVersion: '0.1.0',
        parentModel: { id: 'm0', name: 'tiny-llama-pretrained', version: '1' },
      },
    });
    expect(get(fields, 'trained by job')).toBe('j2');
    expect(get(fields, 'parent model')).toBe('tiny-llama-pretrained v1');
    expect(get(fields, 'dataset sha256')).toBe('f00d');
    expect(get(fields, 'spec hash')).toBe('abc');
    expect(get(fields, 'runtime')).toBe('0.1.0');
    const scratch = modelFields({ ...model, lineage: { jobId: 'j1', parentModel: null } });
    expect(get(scratch, 'parent model')).toBe('(none: trained from scratch)');
  });

  it('has no lineage lines for a model registered by hand', () => {
    expect(modelFields(model).map(([k]) => k)).not.toContain('trained by job');
  });
});
