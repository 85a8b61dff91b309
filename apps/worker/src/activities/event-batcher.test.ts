import type { AppendJobEventInput, Db } from '@llmops/db';
import { describe, expect, it } from 'vitest';
import { createJobEventBatcher } from './event-batcher.ts';

/** appendEvents over an array: a statement with an event of job `gone` fails whole; `down` fails all. */
function store() {
  const s = {
    statements: [] as string[][],
    down: false,
    db: {
      repos: {
        jobs: {
          appendEvents: async (events: AppendJobEventInput[]) => {
            await new Promise((r) => setTimeout(r, 5));
            if (s.down) throw new Error('database down');
            if (events.some((e) => e.jobId === 'gone')) throw new Error('job gone');
            s.statements.push(events.map((e) => `${e.jobId}:${e.type}`));
            return [];
          },
        },
      },
    } as unknown as Db,
  };
  return s;
}

const ev = (jobId: string, type: string): AppendJobEventInput => ({ jobId, type, actor: 'system:worker' });

describe('job event batcher', () => {
  it('writes the events of writes arriving within the window in one statement, in arrival order', async () => {
    const s = store();
    const sink = createJobEventBatcher(s.db, 30);
    await Promise.all([
      sink.append([ev('a', 'metrics'), ev('a', 'progress')]),
      sink.append([ev('b', 'checkpoint')]),
      sink.append([]),
      sink.append([ev('c', 'progress')]),
    ]);
    expect(s.statements).toEqual([['a:metrics', 'a:progress', 'b:checkpoint', 'c:progress']]);
    await sink.append([ev('a', 'progress')]);
    expect(s.statements).toHaveLength(2);
  });

  it("fails only the write whose event the database refuses; the others' events are stored", async () => {
    const s = store();
    const sink = createJobEventBatcher(s.db, 30);
    const results = await Promise.allSettled([
      sink.append([ev('a', 'progress')]),
      sink.append([ev('gone', 'progress')]),
      sink.append([ev('b', 'progress')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('job gone'));
    expect(s.statements).toEqual([['a:progress'], ['b:progress']]);
  });

  it('fails every write while the database is down and writes again once it is back', async () => {
    const s = store();
    const sink = createJobEventBatcher(s.db, 30);
    s.down = true;
    const results = await Promise.allSettled([sink.append([ev('a', 'x')]), sink.append([ev('b', 'x')])]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    s.down = false;
    await sink.append([ev('a', 'x')]);
    expect(s.statements).toEqual([['a:x']]);
  });
});
