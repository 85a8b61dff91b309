import type { Page, Run } from '@llmops/integrations-mlflow';
import { createError } from '../errors.ts';
import { filterLiteral, LLMOPS_TAGS } from '../registry/mlflow.ts';

/**
 * Where a run names its model. The TrainJobSpec is logged as params under its dotted paths
 * (output.artifact_name is the registered model name, base_model_ref the base model); the spec converter
 * also writes the search tags llmops.artifact_name and llmops.base_model. Both are searched.
 */
export const RUN_MODEL_FIELDS = [
  'params.`output.artifact_name`',
  'params.`base_model_ref`',
  'tags.`llmops.artifact_name`',
  'tags.`llmops.base_model`',
] as const;

export interface RunSearch {
  projectId: string;
  model?: string | undefined;
  dataset?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** An ISO date or date-time as epoch ms; a date alone is its start (UTC), or with `endOfDay` the next day's. */
export function instantMs(value: string, what: string, endOfDay = false): number {
  const ms = Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms))
    throw createError('BAD_REQUEST', `${what} '${value}' is not an ISO 8601 date or date-time`);
  return endOfDay && DATE_ONLY.test(value) ? ms + DAY_MS : ms;
}

/**
 * MLflow filters for a run search. MLflow joins clauses with AND only, so "model is the registered model
 * or the base model" and "dataset by name or digest" become several filters whose results are merged:
 * one filter per combination of alternatives.
 */
export function buildRunFilters(q: RunSearch): string[] {
  const common = [`tags.\`${LLMOPS_TAGS.projectId}\` = ${filterLiteral(q.projectId, 'project id')}`];
  let fromMs: number | null = null;
  if (q.from) {
    fromMs = instantMs(q.from, 'from');
    common.push(`attributes.start_time >= ${fromMs}`);
  }
  if (q.to) {
    const toMs = instantMs(q.to, 'to', true);
    if (fromMs !== null && toMs <= fromMs)
      throw createError('BAD_REQUEST', `to '${q.to}' must be after from '${q.from}'`);
    common.push(`attributes.start_time < ${toMs}`);
  }
  const alternatives: string[][] = [];
  if (q.model) {
    const v = filterLiteral(q.model, 'model');
    alternatives.push(RUN_MODEL_FIELDS.map((field) => `${field} = ${v}`));
  }
  if (q.dataset) {
    // Runs name their dataset input `<name>@<version>`; MLflow keeps the first 36 characters of a digest.
    const d = q.dataset;
    const alts = [`datasets.name = ${filterLiteral(d, 'dataset')}`];
    if (!d.includes('@') && !d.includes('%'))
      alts.push(`datasets.name LIKE ${filterLiteral(`${d}@%`, 'dataset')}`);
    alts.push(`datasets.digest = ${filterLiteral(d.slice(0, 36), 'dataset')}`);
    alternatives.push(alts);
  }
  let filters = [common];
  for (const alts of alternatives) filters = filters.flatMap((f) => alts.map((a) => [...f, a]));
  return filters.map((f) => f.join(' AND '));
}

/** MLflow's run order: newest start first, then run id. Merged pages keep it. */
export function compareRuns(a: Run, b: Run): number {
  const d = (b.info.start_time ?? 0) - (a.info.start_time ?? 0);
  if (d !== 0) return d;
  return a.info.run_id < b.info.run_id ? -1 : a.info.run_id > b.info.run_id ? 1 : 0;
}

interface StreamCursor {
  /** MLflow page token of the page being read; null for the first page. */
  t: string | null;
  /** Items of that page already consumed. */
  i: number;
  done: boolean;
}

interface Cursor {
  s: StreamCursor[];
  /** The last run returned (start time, run id): runs not after it are duplicates from another filter. */
  last: [number, string] | null;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(token: string, streams: number): Cursor {
  const bad = () =>
    createError('BAD_REQUEST', 'pageToken is not a token from a previous page of this search');
  let c: Cursor;
  try {
    c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw bad();
  }
  if (!c || !Array.isArray(c.s) || c.s.length !== streams) throw bad();
  for (const s of c.s)
    if (
      typeof s !== 'object' ||
      s === null ||
      !(s.t === null || typeof s.t === 'string') ||
      !Number.isInteger(s.i) ||
      s.i < 0 ||
      typeof s.done !== 'boolean'
    )
      throw bad();
  if (
    c.last !== null &&
    !(Array.isArray(c.last) && typeof c.last[0] === 'number' && typeof c.last[1] === 'string')
  )
    throw bad();
  return c;
}

export type FetchRuns = (filter: string, pageToken: string | null, maxResults: number) => Promise<Page<Run>>;

/**
 * One page of the union of several MLflow searches, in MLflow's order, without duplicates. The page
 * token records where each search stands, so the next page continues every one of them.
 */
export async function searchMerged(
  filters: readonly string[],
  fetchRuns: FetchRuns,
  limit: number,
  pageToken?: string,
): Promise<{ items: Run[]; nextPageToken: string | null }> {
  const cursor = pageToken
    ? decodeCursor(pageToken, filters.length)
    : { s: filters.map(() => ({ t: null, i: 0, done: false })), last: null };
  const buffers: (Page<Run> | null)[] = filters.map(() => null);
  const load = async (k: number) => {
    const s = cursor.s[k]!;
    if (s.done) return;
    const page = await fetchRuns(filters[k]!, s.t, limit);
    buffers[k] = page;
  };
  await Promise.all(filters.map((_f, k) => load(k)));

  const head = (k: number): Run | null => {
    const s = cursor.s[k]!;
    return s.done ? null : (buffers[k]?.items[s.i] ?? null);
  };
  /** Consumes the head of stream k, loading its next page when this one is used up. */
  const advance = async (k: number) => {
    const s = cursor.s[k]!;
    s.i += 1;
    const page = buffers[k]!;
    if (s.i < page.items.length) return;
    if (page.nextPageToken) {
      s.t = page.nextPageToken;
      s.i = 0;
      await load(k);
      if (buffers[k]!.items.length === 0) s.done = true;
    } else s.done = true;
  };
  // A stream whose first page is empty (or already consumed) is finished.
  for (let k = 0; k < filters.length; k++) {
    const s = cursor.s[k]!;
    if (!s.done && s.i >= (buffers[k]?.items.length ?? 0)) {
      if (buffers[k]?.nextPageToken && s.i > 0) {
        s.t = buffers[k]!.nextPageToken;
        s.i = 0;
        await load(k);
      }
      if (s.i >= (buffers[k]?.items.length ?? 0)) s.done = true;
    }
  }

  const items: Run[] = [];
  while (items.length < limit) {
    let best = -1;
    for (let k = 0; k < filters.length; k++) {
      const h = head(k);
      if (h && (best < 0 || compareRuns(h, head(best)!) < 0)) best = k;
    }
    if (best < 0) break;
    const run = head(best)!;
    await advance(best);
    const last = cursor.last;
    const key: [number, string] = [run.info.start_time ?? 0, run.info.run_id];
    if (last && (key[0] > last[0] || (key[0] === last[0] && key[1] <= last[1]))) continue;
    cursor.last = key;
    items.push(run);
  }
  const more = cursor.s.some((s) => !s.done);
  return { items, nextPageToken: more ? encodeCursor(cursor) : null };
}
