import { describe, expect, it } from 'vitest';
import type { Page, Run } from '@llmops/integrations-mlflow';
import { isLlmopsError } from '../errors.ts';
import { buildRunFilters, instantMs, searchMerged, type FetchRuns } from './search.ts';

const P = '11111111-1111-1111-1111-111111111111';
const scope = `tags.\`llmops.project_id\` = '${P}'`;

describe('buildRunFilters', () => {
  it('scopes every search to the project', () => {
    expect(buildRunFilters({ projectId: P })).toEqual([scope]);
  });

  it('turns model and dataset alternatives into one filter per combination (MLflow has no OR)', () => {
    const filters = buildRunFilters({ projectId: P, model: 'llama-sft', dataset: 'chat_pairs' });
    const model = [
      "params.`output.artifact_name` = 'llama-sft'",
      "params.`base_model_ref` = 'llama-sft'",
      "tags.`llmops.artifact_name` = 'llama-sft'",
      "tags.`llmops.base_model` = 'llama-sft'",
    ];
    const dataset = [
      "datasets.name = 'chat_pairs'",
      "datasets.name LIKE 'chat_pairs@%'",
      "datasets.digest = 'chat_pairs'",
    ];
    expect(filters).toEqual(model.flatMap((m) => dataset.map((d) => `${scope} AND ${m} AND ${d}`)));
  });

  it('matches a full SHA-256 by the 36 characters MLflow keeps, and name@version exactly', () => {
    const sha = 'a'.repeat(64);
    expect(buildRunFilters({ projectId: P, dataset: sha })).toContain(
      `${scope} AND datasets.digest = '${'a'.repeat(36)}'`,
    );
    expect(buildRunFilters({ projectId: P, dataset: 'pairs@v1' })).toEqual([
      `${scope} AND datasets.name = 'pairs@v1'`,
      `${scope} AND datasets.digest = 'pairs@v1'`,
    ]);
  });

  it('bounds the start time; a date alone for "to" includes that whole day', () => {
    const [f] = buildRunFilters({ projectId: P, from: '2026-01-01', to: '2026-01-31' });
    expect(f).toBe(
      `${scope} AND attributes.start_time >= ${Date.UTC(2026, 0, 1)} AND attributes.start_time < ${Date.UTC(2026, 1, 1)}`,
    );
    const [g] = buildRunFilters({ projectId: P, to: '2026-01-31T12:00:00Z' });
    expect(g).toBe(`${scope} AND attributes.start_time < ${Date.UTC(2026, 0, 31, 12)}`);
  });

  it('refuses an empty or reversed date range and values MLflow cannot quote', () => {
    const fail = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isLlmopsError(e) ? `${e.statusCode} ${e.message}` : String(e);
      }
      return 'no error';
    };
    expect(fail(() => buildRunFilters({ projectId: P, from: '2026-02-01', to: '2026-01-01' }))).toMatch(
      /^400 to '2026-01-01' must be after from/,
    );
    expect(fail(() => buildRunFilters({ projectId: P, model: `it's "x"` }))).toMatch(
      /^400 model cannot contain/,
    );
    expect(fail(() => instantMs('yesterday', 'from'))).toMatch(/^400 from 'yesterday' is not an ISO 8601/);
    expect(buildRunFilters({ projectId: P, model: "o'neil" })[0]).toContain(`= "o'neil"`);
  });
});

function run(id: string, start: number): Run {
  return {
    info: {
      run_id: id,
      experiment_id: '1',
      status: 'FINISHED',
      start_time: start,
      lifecycle_stage: 'active',
    },
    data: {},
  };
}

/** A fake MLflow search: each filter names a fixed list, served in pages of maxResults. */
function fakeFetch(lists: Record<string, Run[]>, calls: string[] = []): FetchRuns {
  return async (filter, token, max): Promise<Page<Run>> => {
    calls.push(`${filter}@${token ?? 0}`);
    const all = [...lists[filter]!].sort(
      (a, b) => b.info.start_time! - a.info.start_time! || (a.info.run_id < b.info.run_id ? -1 : 1),
    );
    const start = token ? Number(token) : 0;
    const next = start + max;
    return { items: all.slice(start, next), nextPageToken: next < all.length ? String(next) : null };
  };
}

const ids = (p: { items: Run[] }) => p.items.map((r) => r.info.run_id);

describe('searchMerged', () => {
  it('passes one search through page by page', async () => {
    const fetch = fakeFetch({ f: [run('a', 3), run('b', 2), run('c', 1)] });
    const p1 = await searchMerged(['f'], fetch, 2);
    expect(ids(p1)).toEqual(['a', 'b']);
    const p2 = await searchMerged(['f'], fetch, 2, p1.nextPageToken!);
    expect(ids(p2)).toEqual(['c']);
    expect(p2.nextPageToken).toBeNull();
  });

  it('merges several searches in MLflow order without duplicates, across pages', async () => {
    const shared = run('s', 5);
    const lists = {
      x: [run('x1', 9), shared, run('x2', 1), run('t2', 5)],
      y: [run('y1', 7), shared, run('y2', 4), run('t1', 5)],
    };
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await searchMerged(['x', 'y'], fakeFetch(lists), 2, token);
      seen.push(...ids(page));
      if (!page.nextPageToken) break;
      token = page.nextPageToken;
    }
    expect(seen).toEqual(['x1', 'y1', 's', 't1', 't2', 'y2', 'x2']);
  });

  it('ends with no token when every search is used up, also when a search finds nothing', async () => {
    const page = await searchMerged(['x', 'y'], fakeFetch({ x: [run('a', 1)], y: [] }), 5);
    expect(ids(page)).toEqual(['a']);
    expect(page.nextPageToken).toBeNull();
  });

  it('refuses a token that does not belong to the search', async () => {
    const fetch = fakeFetch({ x: [run('a', 2), run('b', 1)], y: [] });
    const p1 = await searchMerged(['x'], fetch, 1);
    await expect(searchMerged(['x', 'y'], fetch, 1, p1.nextPageToken!)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('pageToken'),
    });
    await expect(searchMerged(['x'], fetch, 1, 'not-base64-json')).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
