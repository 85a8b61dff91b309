import { createClient, type Client, type ResponseInfo } from '@llmops/client';
import { renderData } from './output.ts';
import { configPath, pickProfile, readProfiles } from './profile.ts';
import { resolveSettings, type GlobalFlags, type Settings } from './settings.ts';

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Width of the terminal, when it is one. */
  columns?: number;
}

export type InStream = NodeJS.ReadableStream & { isTTY?: boolean };

/** Everything the CLI touches of its surroundings, so tests can run it in-process. */
export interface CliIO {
  /** What the user types: chat turns, confirmations. */
  stdin: InStream;
  stdout: OutStream;
  stderr: OutStream;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Calls `fn` on Ctrl-C (SIGINT) or SIGTERM until the returned function is called. */
  onInterrupt(fn: () => void): () => void;
}

export interface Ctx {
  io: CliIO;
  flags: GlobalFlags;
  settings: Settings;
  /** Created on first use, so commands that talk to no server never parse a URL. */
  readonly client: Client;
  /** The message of the last envelope received (e.g. "Job already submitted with this Idempotency-Key"). */
  lastMessage(): string | undefined;
  out(text: string): void;
  note(text: string): void;
  /** `data` as JSON or YAML when asked for, else the table rendering. */
  emit(data: unknown, table: () => string): void;
}

// Long enough for a slow database; short enough that a hung server does not hang a script forever.
const REQUEST_TIMEOUT_MS = 60_000;

export interface ContextOptions {
  /** `login --profile new` names a profile that does not exist yet. */
  newProfile?: boolean;
}

export async function createContext(io: CliIO, flags: GlobalFlags, opts: ContextOptions = {}): Promise<Ctx> {
  const path = configPath(io.env);
  const file = await readProfiles(path);
  const name = flags.profile ?? (io.env.LLMOPS_PROFILE || undefined);
  const profile = opts.newProfile && name && !file.profiles[name] ? undefined : pickProfile(file, name, path);
  const settings = resolveSettings({ flags, env: io.env, cwd: io.cwd, profile });
  let client: Client | undefined;
  let last: ResponseInfo | undefined;
  return {
    io,
    flags,
    settings,
    get client() {
      client ??= createClient({
        baseUrl: settings.url,
        token: settings.token,
        project: settings.project,
        timeoutMs: REQUEST_TIMEOUT_MS,
        onResponse: (info) => {
          last = info;
        },
      });
      return client;
    },
    lastMessage: () => last?.message,
    out: (text) => io.stdout.write(text),
    note: (text) => io.stderr.write(text),
    emit(data, table) {
      io.stdout.write(settings.output === 'table' ? table() : renderData(data, settings.output));
    },
  };
}
