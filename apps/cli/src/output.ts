import Table from 'cli-table3';
import YAML from 'yaml';
import type { RuleViolation } from '@llmops/client';
import { isApiError } from '@llmops/client';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

// Borderless, like kubectl: columns line up, and the text stays easy to grep and to paste.
const PLAIN: ConstructorParameters<typeof Table>[0] = {
  chars: {
    top: '',
    'top-mid': '',
    'top-left': '',
    'top-right': '',
    bottom: '',
    'bottom-mid': '',
    'bottom-left': '',
    'bottom-right': '',
    left: '',
    'left-mid': '',
    mid: '',
    'mid-mid': '',
    right: '',
    'right-mid': '',
    middle: '  ',
  },
  style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
};

/** One cell as text: absent values show as "-", objects as compact JSON. */
export function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** ISO timestamps without milliseconds; they are noise at a terminal. */
export function time(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

export function money(usd: number | null | undefined): string {
  return usd === null || usd === undefined ? '-' : `$${usd.toFixed(2)}`;
}

const trimEnds = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');

/** Rows under upper-case headings, or a note that there is nothing to show. */
export function renderTable(head: string[], rows: unknown[][], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`;
  const t = new Table({ ...PLAIN, head: head.map((h) => h.toUpperCase()) });
  for (const r of rows) t.push(r.map(cell));
  return `${trimEnds(t.toString())}\n`;
}

/** A record as "key  value" lines, in the order given. */
export function renderFields(fields: [string, unknown][]): string {
  const t = new Table(PLAIN);
  for (const [k, v] of fields) t.push([`${k}:`, cell(v)]);
  return `${trimEnds(t.toString())}\n`;
}

export function renderData(data: unknown, format: Exclude<OutputFormat, 'table'>): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : YAML.stringify(data);
}

export function renderViolations(violations: readonly RuleViolation[]): string {
  return renderTable(
    ['code', 'path', 'message'],
    violations.map((v) => [v.code, v.path || '(body)', v.message]),
  );
}

/** Violation lines for stderr, indented under the error line. */
export function violationLines(violations: readonly RuleViolation[]): string {
  return violations.map((v) => `  ${v.code} at ${v.path || '(body)'}: ${v.message}\n`).join('');
}

// Hints for the errors a person can fix at once; the server's message says what, these say what to do.
const HINTS: Partial<Record<string, string>> = {
  UNAUTHORIZED: 'hint: log in with `llmops login --url <url> --token <token>` or set LLMOPS_TOKEN',
  FORBIDDEN: 'hint: your role in this project does not allow this; choose another with --project',
};

/**
 * The server's message often repeats the first violation ("…: CODE at path: …"); the violations are
 * listed one per line below it anyway, so the headline keeps only the part before them.
 */
function headline(message: string, violations: readonly RuleViolation[]): string {
  const first = violations[0];
  if (!first) return message;
  const cut = message.indexOf(`: ${first.code}`);
  const head = cut > 0 ? message.slice(0, cut) : message;
  return `${head} (${violations.length} violation${violations.length === 1 ? '' : 's'}):`;
}

/** What the user sees for a failure: one error line, the violations, never a stack trace. */
export function formatError(e: unknown): string {
  if (isApiError(e)) {
    const hint = HINTS[e.code];
    return `error: ${headline(e.message, e.violations)}\n${violationLines(e.violations)}${hint ? `${hint}\n` : ''}`;
  }
  return `error: ${e instanceof Error ? e.message : String(e)}\n`;
}
