import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import YAML from 'yaml';

/** line:column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: (before.at(-1)?.length ?? 0) + 1 };
}

function parseJson(text: string, shown: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const pos = /at position (\d+)/.exec(message);
    const where = pos ? (({ line, col }) => `:${line}:${col}`)(lineColumn(text, Number(pos[1]))) : '';
    throw new Error(
      `${shown}${where}: not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`,
    );
  }
}

function parseYaml(text: string, shown: string): unknown {
  const doc = YAML.parseDocument(text);
  const err = doc.errors[0];
  if (err) {
    const at = err.linePos?.[0];
    const [summary = err.message, ...frame] = err.message.split('\n');
    const reason = summary.replace(/ at line \d+, column \d+:?$/, '');
    const context = frame.filter((l) => l.trim() !== '').map((l) => `  ${l}`);
    throw new Error(
      [`${shown}${at ? `:${at.line}:${at.col}` : ''}: not valid YAML: ${reason}`, ...context].join('\n'),
    );
  }
  return doc.toJS();
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

/**
 * A request body from a YAML or JSON file (`.json` is read as JSON, anything else as YAML, which also
 * accepts JSON). Errors name the file and, where the parser knows it, the line and column.
 */
export async function readBodyFile(
  path: string,
  cwd: string,
  what: string,
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code ?? e);
    throw new Error(`Cannot read ${path}: ${why}`);
  }
  const value = extname(path).toLowerCase() === '.json' ? parseJson(text, path) : parseYaml(text, path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${path}: expected a mapping (${what}), found ${kindOf(value)}`);
  }
  return value as Record<string, unknown>;
}
