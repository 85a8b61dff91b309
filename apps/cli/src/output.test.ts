import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ApiError } from '@llmops/client';
import {
  cell,
  formatError,
  money,
  renderData,
  renderFields,
  renderTable,
  renderViolations,
  time,
  violationLines,
} from './output.ts';

const gpuViolation = {
  code: 'GPU_TYPE_NOT_AVAILABLE' as const,
  path: 'trainJobSpec.resources.gpu_type',
  message: "GPU type 'H999' is not available",
};

describe('cells', () => {
  it.each([
    [null, '-'],
    [undefined, '-'],
    ['', '-'],
    [true, 'yes'],
    [false, 'no'],
    [0, '0'],
    [{ a: 1 }, '{"a":1}'],
  ])('%j → %s', (v, text) => expect(cell(v)).toBe(text));

  it('drops milliseconds from timestamps and formats money with cents', () => {
    expect(time('2026-01-02T03:04:05.678Z')).toBe('2026-01-02 03:04:05Z');
    expect(time(null)).toBe('-');
    expect(money(34)).toBe('$34.00');
    expect(money(null)).toBe('-');
  });
});

describe('renderTable', () => {
  it('aligns columns under upper-case headings without borders or trailing blanks', () => {
    const text = renderTable(
      ['id', 'status'],
      [
        ['a-long-id', 'QUEUED'],
        ['b', null],
      ],
    );
    expect(text).toBe('ID         STATUS\na-long-id  QUEUED\nb          -\n');
  });

  it('says there is nothing rather than printing an empty table', () => {
    expect(renderTable(['id'], [], '(no jobs)')).toBe('(no jobs)\n');
  });

  it('renders fields as aligned key/value lines in the given order', () => {
    expect(
      renderFields([
        ['id', 'j1'],
        ['compliant', true],
      ]),
    ).toBe('id:         j1\ncompliant:  yes\n');
  });
});

describe('renderData', () => {
  const data = { id: 'j1', items: [1, 2] };
  it('prints JSON that parses back to the data', () => {
    expect(JSON.parse(renderData(data, 'json'))).toEqual(data);
  });
  it('prints YAML that parses back to the data', () => {
    expect(YAML.parse(renderData(data, 'yaml'))).toEqual(data);
  });
});

describe('violations', () => {
  it('lists code, path and message as a table and as stderr lines', () => {
    expect(renderViolations([gpuViolation])).toContain(
      'GPU_TYPE_NOT_AVAILABLE  trainJobSpec.resources.gpu_type',
    );
    expect(violationLines([gpuViolation, { ...gpuViolation, path: '' }])).toBe(
      "  GPU_TYPE_NOT_AVAILABLE at trainJobSpec.resources.gpu_type: GPU type 'H999' is not available\n" +
        "  GPU_TYPE_NOT_AVAILABLE at (body): GPU type 'H999' is not available\n",
    );
  });
});

describe('formatError', () => {
  it('prints the message and one line per violation, shortening a message that repeats the first', () => {
    const e = new ApiError({
      status: 422,
      code: 'VALIDATION_FAILED',
      message: `Submission failed validation: GPU_TYPE_NOT_AVAILABLE at trainJobSpec.resources.gpu_type: …`,
      violations: [gpuViolation],
    });
    expect(formatError(e)).toBe(
      'error: Submission failed validation (1 violation):\n' +
        "  GPU_TYPE_NOT_AVAILABLE at trainJobSpec.resources.gpu_type: GPU type 'H999' is not available\n",
    );
  });

  it('adds what to do for an authentication failure', () => {
    const e = new ApiError({ status: 401, code: 'UNAUTHORIZED', message: 'Missing bearer token' });
    expect(formatError(e)).toBe(
      'error: Missing bearer token\nhint: log in with `llmops login --url <url> --token <token>` or set LLMOPS_TOKEN\n',
    );
  });

  it('never prints a stack trace', () => {
    const text = formatError(new Error('Cannot read job.yaml: no such file'));
    expect(text).toBe('error: Cannot read job.yaml: no such file\n');
    expect(text).not.toMatch(/\n\s+at /);
  });
});
