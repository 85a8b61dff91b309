import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EndpointEvent, EndpointStatus } from '@llmops/client';
import { rolloutBody } from './endpoint-control.ts';
import { followEvents, rolloutEnd } from './endpoint-follow.ts';
import { renderStatus, rolloutLine, stepsArg } from './endpoint-render.ts';

const event = (seq: number, type: string, revisionId: string | null = 'rev-new-1'): EndpointEvent => ({
  seq,
  revisionId,
  type,
  message: `${type} happened`,
  detail: {},
  actor: 'system:rollout',
  at: '2026-01-02T03:04:05.678Z',
});

const revision = (over: Record<string, unknown>) => ({
  id: 'rev-old-0aaaaaaa',
  seq: 1,
  modelId: 'm1',
  modelRef: 'llama-sft',
  modelVersion: '2',
  mode: 'blue-green' as const,
  state: 'serving',
  traffic: 90,
  shadow: false,
  replicas: 2,
  message: null,
  createdAt: '2026-01-02T03:04:05.678Z',
  updatedAt: '2026-01-02T03:04:05.678Z',
  backend: {
    state: 'ready',
    message: null,
    replicas: [
      { id: 'r0', state: 'ready', url: 'http://127.0.0.1:1', message: null, restarts: 0 },
      { id: 'r1', state: 'starting', url: null, message: null, restarts: 1 },
    ],
  },
  health: { requests: 200, errors: 3, errorRate: 0.015, p50Ms: 4.2, p95Ms: 11.6 },
  ...over,
});

describe('stepsArg', () => {
  it('reads increasing whole percentages', () => {
    expect(stepsArg('10,50')).toEqual([10, 50]);
    expect(stepsArg(' 0 , 100 ')).toEqual([0, 100]);
  });
  it.each([
    ['10,abc', /whole percentages/],
    ['101', /whole percentages/],
    ['-5', /whole percentages/],
    ['2.5', /whole percentages/],
    ['50,10', /must increase/],
    ['10,10', /must increase/],
    ['', /whole percentages/],
  ])('refuses %j', (value, message) => {
    expect(() => stepsArg(value)).toThrow(message);
  });
});

describe('renderStatus', () => {
  const st: EndpointStatus = {
    endpointId: 'ep-1',
    status: 'ROLLING_OUT',
    windowSeconds: 60,
    rollout: {
      revisionId: 'rev-new-1bbbbbbb',
      mode: 'canary',
      phase: 'holding',
      step: 0,
      steps: [10, 100],
      newTraffic: 10,
      message: null,
    },
    revisions: [
      revision({}),
      revision({
        id: 'rev-new-1bbbbbbb',
        seq: 2,
        modelVersion: '3',
        mode: 'canary',
        state: 'ready',
        traffic: 10,
        shadow: false,
        replicas: 1,
        backend: null,
        health: null,
        message: 'waiting',
      }),
    ],
    events: [event(7, 'rollout.started'), event(8, 'traffic.changed', null), event(9, 'revision.ready')],
  };

  it('shows the rollout, one row per revision (newest first) and the last events', () => {
    const out = renderStatus(st, 2);
    expect(out).toMatch(/^endpoint: +ep-1$/m);
    expect(out).toMatch(
      /^rollout: +canary · holding · step 1 of 2 \(10% → 100%\) · 10% on revision rev-new-$/m,
    );
    const rows = out.split('\n').filter((l) => /^\d+ +rev-/.test(l));
    expect(rows[0]).toMatch(/^2 +rev-new- +llama-sft v3 +canary +ready +10% +0\/1 +- +- +- +waiting$/);
    expect(rows[1]).toMatch(
      /^1 +rev-old- +llama-sft v2 +blue-green +serving +90% +1\/2 +200 +1\.5% +12 ms +-$/,
    );
    expect(out).toContain('over the last 60 s');
    expect(out).toMatch(
      /Last events:\nSEQ +TIME +TYPE +REVISION +MESSAGE\n8 +2026-01-02 03:04:05Z +traffic\.changed +- /,
    );
    expect(out).not.toMatch(/rollout\.started/);
    expect(renderStatus(st, 0)).not.toMatch(/Last events/);
  });

  it('says when no rollout is under way and marks a shadow', () => {
    expect(rolloutLine(null)).toBe('none under way');
    const shadow = renderStatus(
      { ...st, rollout: null, revisions: [revision({ traffic: 0, shadow: true })] },
      0,
    );
    expect(shadow).toMatch(/ 0% \+shadow /);
  });
});

describe('rolloutBody', () => {
  it('takes a DeploymentSpec file as the new spec, a request file as the body, and options over both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llmops-rollout-'));
    try {
      await writeFile(join(dir, 'spec.yaml'), 'model_ref: llama-sft\nuse_gpu: false\n');
      await writeFile(
        join(dir, 'req.json'),
        JSON.stringify({ mode: 'canary', steps: [5], analysis: { maxErrorRate: 0.1 } }),
      );
      expect(await rolloutBody({ file: 'spec.yaml', interval: 1, replicas: 2 }, dir)).toEqual({
        deploymentSpec: { model_ref: 'llama-sft', use_gpu: false },
        replicas: 2,
      });
      expect(
        await rolloutBody({ file: 'req.json', interval: 1, steps: [10, 50], holdSeconds: 0 }, dir),
      ).toEqual({ mode: 'canary', steps: [10, 50], analysis: { maxErrorRate: 0.1 }, holdPreviousSeconds: 0 });
      expect(await rolloutBody({ interval: 1 }, dir)).toEqual({});
      await expect(rolloutBody({ file: 'none.yaml', interval: 1 }, dir)).rejects.toThrow(
        'Cannot read none.yaml: no such file',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('followEvents', () => {
  it('prints each new event once and stops at the end of the rollout with its exit code', async () => {
    const batches = [
      [event(3, 'rollout.started')],
      [],
      [event(3, 'rollout.started'), event(4, 'traffic.changed', null)],
      [event(5, 'rollout.rolled_back')],
    ];
    const asked: number[] = [];
    let out = '';
    const code = await followEvents(
      {
        events: async (after) => {
          asked.push(after);
          return batches.shift() ?? [];
        },
        out: (t) => (out += t),
        signal: new AbortController().signal,
        intervalMs: 1,
      },
      2,
      rolloutEnd('rev-new-1'),
    );
    expect(code).toBe(1);
    expect(asked).toEqual([2, 3, 3, 4]);
    expect(
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('  ')[2]),
    ).toEqual(['rollout.started', 'traffic.changed', 'rollout.rolled_back']);
  });

  it('ignores the end of another revision, exits 0 when promoted and 130 when interrupted', async () => {
    const end = rolloutEnd('rev-new-1');
    expect(end(event(1, 'rollout.promoted', 'other'))).toBeUndefined();
    expect(end(event(1, 'rollout.promoted'))).toBe(0);
    expect(end(event(1, 'rollout.failed'))).toBe(1);
    expect(end(event(1, 'endpoint.deleted', null))).toBe(1);
    const ctrl = new AbortController();
    const following = followEvents(
      { events: async () => [], out: () => {}, signal: ctrl.signal, intervalMs: 10_000 },
      0,
      end,
    );
    ctrl.abort();
    expect(await following).toBe(130);
  });

  it('waits for a platform that is briefly unreachable but not for a refusal', async () => {
    const { ApiError } = await import('@llmops/client');
    let calls = 0;
    const code = await followEvents(
      {
        events: async () => {
          calls++;
          if (calls < 3) throw new ApiError({ status: 0, code: 'UNAVAILABLE', message: 'down' });
          return [event(9, 'rollout.promoted')];
        },
        out: () => {},
        signal: new AbortController().signal,
        intervalMs: 1,
      },
      0,
      rolloutEnd('rev-new-1'),
    );
    expect(code).toBe(0);
    await expect(
      followEvents(
        {
          events: async () => {
            throw new ApiError({ status: 404, code: 'NOT_FOUND', message: 'gone' });
          },
          out: () => {},
          signal: new AbortController().signal,
          intervalMs: 1,
        },
        0,
        rolloutEnd('rev-new-1'),
      ),
    ).rejects.toThrow('gone');
  });
});
