import { describe, expect, it } from 'vitest';
import { controlsFor } from './job-controls.ts';

const on = (status: string) =>
  Object.entries(controlsFor(status))
    .filter(([, v]) => v)
    .map(([k]) => k);

describe('job controls by state', () => {
  it.each([
    ['QUEUED', ['cancel', 'priority']],
    ['RUNNING', ['pause', 'cancel']],
    ['PAUSED', ['resume', 'cancel', 'priority']],
    ['FAILED', ['retry']],
    ['CANCELLED', ['retry']],
    ['SUCCEEDED', []],
  ])('%s offers %j', (status, controls) => {
    expect(on(status)).toEqual(controls);
  });

  it('offers nothing before the state is known', () => {
    expect(on('')).toEqual([]);
  });
});
