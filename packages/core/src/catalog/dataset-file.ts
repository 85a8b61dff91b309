import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { checkDatasetRow, type DatasetType } from '@llmops/spec';

export type DatasetFormat = 'jsonl' | 'csv';

export interface DatasetFileReport {
  sha256: string;
  sizeBytes: number;
  rows: number;
  valid: number;
  errors: { row: number; message: string }[];
  formats: Record<string, number>;
}

/** Reports at most this many broken rows; the count of valid rows still covers the whole file. */
export const MAX_ROW_ERRORS = 100;

export function formatFromFilename(filename: string): DatasetFormat | null {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  return null;
}

/**
 * Streams an uploaded file to `dest` while hashing it and checking every row against the declared type.
 * Never holds the whole file in memory.
 */
export async function ingestDatasetFile(
  input: Readable,
  dest: string,
  format: DatasetFormat,
  type: DatasetType,
): Promise<DatasetFileReport> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const report: DatasetFileReport = { sha256: '', sizeBytes: 0, rows: 0, valid: 0, errors: [], formats: {} };
  const record = (row: number, value: unknown) => {
    report.rows++;
    const r =
      value instanceof InvalidRow
        ? { ok: false as const, message: value.reason }
        : checkDatasetRow(type, value);
    if (r.ok) {
      report.valid++;
      report.formats[r.format] = (report.formats[r.format] ?? 0) + 1;
    } else if (report.errors.length < MAX_ROW_ERRORS) report.errors.push({ row, message: r.message });
  };
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const file = createWriteStream(dest);
  const tee = input.pipe(tap);
  tee.pipe(file);
  const rowsDone = format === 'jsonl' ? readJsonl(tee, record) : readCsv(tee, record);
  await Promise.all([rowsDone, once(file, 'finish')]);
  report.sha256 = hash.digest('hex');
  report.sizeBytes = sizeBytes;
  return report;
}

async function readJsonl(stream: Readable, record: (row: number, value: unknown) => void) {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    try {
      record(n, JSON.parse(line));
    } catch (e) {
      record(n, new InvalidRow(`invalid JSON: ${(e as Error).message}`));
    }
  }
}

class InvalidRow {
  constructor(readonly reason: string) {}
}

async function readCsv(stream: Readable, record: (row: number, value: unknown) => void) {
  // Header row gives the field names; every other row becomes an object of strings.
  const parser = parseCsv({
    columns: true,
    bom: true,
    skip_empty_lines: true,
    relax_column_count: false,
    trim: false,
  });
  let n = 1;
  const consume = (async () => {
    for await (const row of parser) {
      n++;
      record(n, normaliseCsvRow(row as Record<string, string>));
    }
  })();
  await pipeline(stream, parser).catch((e: Error) =>
    record(n + 1, new InvalidRow(`invalid CSV: ${e.message}`)),
  );
  await consume.catch(() => undefined);
}

/** CSV has no types: an empty optional column means "absent", and `messages` may hold JSON. */
function normaliseCsvRow(row: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === '' && (k === 'input' || k === 'negative')) continue;
    if (k === 'messages') {
      try {
        out[k] = JSON.parse(v);
      } catch {
        out[k] = v;
      }
      continue;
    }
    out[k] = v;
  }
  return out;
}
