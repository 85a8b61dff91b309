import { describe, expect, it } from 'vitest';
import { emptyJobForm, fieldOf, toSubmission } from './job-form.ts';

describe('training submit form', () => {
  it('builds a PRETRAIN submission with a null base model', () => {
    const f = { ...emptyJobForm(), artifact_name: 'tiny', gpu_type: 'T4', dataset_name: 'corpus' };
    const body = toSubmission(f) as { jobType: string; trainJobSpec: Record<string, unknown> };
    expect(body.jobType).toBe('pretrain');
    expect(body.trainJobSpec.base_model_ref).toBeNull();
    expect(body.trainJobSpec.resources).toEqual({ gpus: 0, gpu_type: 'T4', nodes: 1 });
  });

  it('sends a fine-tune for SFT and keeps the base model', () => {
    const f = { ...emptyJobForm(), job_type: 'SFT' as const, base_model_ref: ' tiny ' };
    const body = toSubmission(f) as { jobType: string; trainJobSpec: Record<string, unknown> };
    expect(body.jobType).toBe('finetune');
    expect(body.trainJobSpec.base_model_ref).toBe('tiny');
  });

  it('leaves out an emptied number so the server names the missing field', () => {
    const f = { ...emptyJobForm(), lr: null };
    const body = toSubmission(f) as { trainJobSpec: { hyperparams: Record<string, unknown> } };
    expect('lr' in body.trainJobSpec.hyperparams && body.trainJobSpec.hyperparams.lr !== undefined).toBe(
      false,
    );
  });

  it.each([
    ['trainJobSpec.dataset_ref.type', 'dataset'],
    ['trainJobSpec.hyperparams.lr', 'lr'],
    ['trainJobSpec.resources.gpu_type', 'gpu_type'],
    ['trainJobSpec.output.artifact_name', 'artifact_name'],
    ['trainJobSpec.model_family', 'model_family'],
    ['trainJobSpec.something_else', null],
  ])('puts a violation at %s next to %s', (path, field) => {
    expect(fieldOf(path)).toBe(field);
  });
});
