import { InvalidArgumentError } from 'commander';
import type { EndpointEvent, EndpointRevision, EndpointStatus, EndpointStatusRevision } from '@llmops/client';
import { renderFields, renderTable, time } from '../output.ts';

/** `--steps 10,50`: shares (%) of live traffic on the new revision, one step after the other. */
export function stepsArg(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const steps = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || steps.some((n) => n > 100))
    throw new InvalidArgumentError(
      `expected whole percentages from 0 to 100 separated by commas (e.g. 10,50), got '${value}'`,
    );
  for (let i = 1; i < steps.length; i++)
    if (steps[i]! <= steps[i - 1]!)
      throw new InvalidArgumentError(`the steps must increase (e.g. 10,50), got '${value}'`);
  if (steps.length > 20) throw new InvalidArgumentError(`at most 20 steps, got ${steps.length}`);
  return steps;
}

export const shortId = (id: string | null) => (id ? id.slice(0, 8) : '-');

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)} ms`);

function replicasOf(r: EndpointStatusRevision): string {
  const ready = r.backend?.replicas.filter((x) => x.state === 'ready').length ?? 0;
  return `${ready}/${r.replicas}`;
}

/** "canary · holding · step 1 of 2 (10% → 100%) · 10% on the new revision". */
export function rolloutLine(rollout: EndpointStatus['rollout']): string {
  if (!rollout) return 'none under way';
  const parts: string[] = [rollout.mode, rollout.phase];
  if (rollout.step >= 0)
    parts.push(
      `step ${rollout.step + 1} of ${rollout.steps.length} (${rollout.steps.map((s) => `${s}%`).join(' → ')})`,
    );
  parts.push(`${rollout.newTraffic}% on revision ${shortId(rollout.revisionId)}`);
  if (rollout.message) parts.push(rollout.message);
  return parts.join(' · ');
}

export function eventRow(e: EndpointEvent): unknown[] {
  return [e.seq, time(e.at), e.type, shortId(e.revisionId), e.message];
}

export const EVENT_HEAD = ['seq', 'time', 'type', 'revision', 'message'];

/** One event as a line, for following: `12  2026-01-01 10:00:00Z  traffic.changed  5d1c…  canary: 10%`. */
export function eventLine(e: EndpointEvent): string {
  return `${e.seq}  ${time(e.at)}  ${e.type}  ${shortId(e.revisionId)}  ${e.message}\n`;
}

/** `llmops endpoints status`: the endpoint, the rollout, one row per revision (newest first), last events. */
export function renderStatus(st: EndpointStatus, lastEvents: number): string {
  const head = renderFields([
    ['endpoint', st.endpointId],
    ['status', st.status],
    ['rollout', rolloutLine(st.rollout)],
  ]);
  const revisions = [...st.revisions]
    .sort((a, b) => b.seq - a.seq)
    .map((r) => [
      r.seq,
      shortId(r.id),
      `${r.modelRef} v${r.modelVersion}`,
      r.mode,
      r.state,
      r.shadow ? `${r.traffic}% +shadow` : `${r.traffic}%`,
      replicasOf(r),
      r.health?.requests ?? '-',
      r.health ? percent(r.health.errorRate) : '-',
      ms(r.health?.p95Ms ?? null),
      r.message ?? r.backend?.message ?? null,
    ]);
  const table = renderTable(
    [
      'seq',
      'revision',
      'model version',
      'mode',
      'state',
      'traffic',
      'replicas',
      'requests',
      'errors',
      'p95',
      'message',
    ],
    revisions,
    '(no revisions)',
  );
  const events = lastEvents > 0 ? st.events.slice(-lastEvents) : [];
  return (
    `${head}\nRevisions (requests, errors and p95 over the last ${st.windowSeconds} s):\n${table}` +
    (events.length ? `\nLast events:\n${renderTable(EVENT_HEAD, events.map(eventRow))}` : '')
  );
}

/** The one line answering promote, rollback and rollout: "Revision 2 (5d1c…) of llama v3: state". */
export function revisionLine(message: string | undefined, r: EndpointRevision): string {
  return `${message ?? `Revision ${r.seq}`}\n${renderFields([
    ['revision', r.id],
    ['seq', r.seq],
    ['model version', `${r.modelRef} v${r.modelVersion}`],
    ['mode', r.mode],
    ['state', r.state],
    ['traffic', `${r.traffic}%`],
    ['replicas', r.replicas],
  ])}`;
}
