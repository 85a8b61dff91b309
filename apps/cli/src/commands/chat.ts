import { createInterface, type Interface } from 'node:readline';
import { InvalidArgumentError, type Command } from 'commander';
import {
  isApiError,
  type ApiError,
  type ChatMessage,
  type ChatRequest,
  type Client,
  type InferenceTarget,
} from '@llmops/client';
import type { Ctx } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatError, renderData } from '../output.ts';
import { positiveInt, type Run } from '../program.ts';

/** An endpoint id, or its route when the argument starts with a slash. */
export function targetOf(endpoint: string): InferenceTarget {
  return endpoint.startsWith('/') ? { route: endpoint } : { endpointId: endpoint };
}

export function temperatureArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 2)
    throw new InvalidArgumentError(`expected a number from 0 to 2, got '${value}'`);
  return n;
}

const HINTS: Partial<Record<number, string>> = {
  404: 'hint: `llmops endpoints list` shows the endpoints of this project, with their ids and routes',
  503: 'hint: `llmops endpoints status <id>` shows whether a model version is ready',
};

/**
 * An inference failure as the user sees it: the server's message, then the HTTP status, the OpenAI error
 * code and how long to wait when the server said so (`error: … (429 too_many_concurrent_requests; retry
 * after 1 s)`).
 */
export function inferenceErrorText(e: unknown): string {
  if (!isApiError(e) || e.status === 0) return formatError(e);
  const a = e as ApiError;
  const code = typeof a.details?.code === 'string' ? ` ${a.details.code}` : '';
  const retry =
    typeof a.details?.retryAfterSeconds === 'number' ? `; retry after ${a.details.retryAfterSeconds} s` : '';
  const hint = HINTS[a.status];
  const status = a.status >= 200 && a.status < 300 ? '' : ` (${a.status}${code}${retry})`;
  return `error: ${a.message}${status}\n${hint ? `${hint}\n` : ''}`;
}

export interface ChatSettings {
  maxTokens?: number;
  temperature?: number;
  stream: boolean;
}

/** Sends the conversation, writes the answer as it arrives and resolves with its whole text. */
export type Ask = (messages: ChatMessage[], signal: AbortSignal) => Promise<string>;

export function askThrough(
  client: Pick<Client, 'inference'>,
  target: InferenceTarget,
  s: ChatSettings,
  out: (text: string) => void,
): Ask {
  const request = (messages: ChatMessage[]): ChatRequest => ({
    messages,
    ...(s.maxTokens !== undefined ? { max_tokens: s.maxTokens } : {}),
    ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
  });
  return async (messages, signal) => {
    if (!s.stream) {
      const { value } = await client.inference.chat(target, request(messages), { signal });
      const text = value.choices[0]?.message.content ?? '';
      out(`${text}\n`);
      return text;
    }
    let text = '';
    try {
      for await (const chunk of client.inference.streamChat(target, request(messages), { signal })) {
        const piece = chunk.choices[0]?.delta.content ?? '';
        if (piece) {
          out(piece);
          text += piece;
        }
      }
    } finally {
      if (text) out('\n');
    }
    return text;
  };
}

export interface SessionIO {
  lines: AsyncIterable<string>;
  ask: Ask;
  /** The error line(s) of a failed turn. */
  fail(text: string): void;
  note(text: string): void;
  /** Shows the prompt again (at a terminal). */
  prompt(): void;
  /** Receives the function that stops the answer under way (it returns whether one was under way). */
  setStopper(stop: () => boolean): void;
}

/**
 * The interactive conversation: each line is a user turn; the conversation (with the system message) goes
 * with every request, so the model sees what was said. `/reset` starts over, `/exit` ends. A turn that fails
 * or is stopped is left out of the conversation.
 */
export async function chatSession(io: SessionIO, system: string | undefined): Promise<number> {
  const start = (): ChatMessage[] => (system ? [{ role: 'system', content: system }] : []);
  let history = start();
  let current: AbortController | null = null;
  io.setStopper(() => {
    if (!current) return false;
    current.abort();
    return true;
  });
  io.prompt();
  for await (const raw of io.lines) {
    const line = raw.trim();
    if (line === '/exit' || line === '/quit') break;
    if (line === '/reset') {
      history = start();
      io.note('(conversation cleared)\n');
    } else if (line) {
      const turn: ChatMessage[] = [...history, { role: 'user', content: line }];
      current = new AbortController();
      try {
        const answer = await io.ask(turn, current.signal);
        if (current.signal.aborted) io.note('(answer stopped)\n');
        else history = [...turn, { role: 'assistant', content: answer }];
      } catch (e) {
        if (current.signal.aborted) io.note('(answer stopped)\n');
        else io.fail(inferenceErrorText(e));
      } finally {
        current = null;
      }
    }
    io.prompt();
  }
  return 0;
}

interface ChatOpts {
  message?: string;
  system?: string;
  maxTokens?: number;
  temperature?: number;
  stream: boolean;
}

async function oneExchange(ctx: Ctx, target: InferenceTarget, o: ChatOpts): Promise<number> {
  const messages: ChatMessage[] = [
    ...(o.system ? [{ role: 'system' as const, content: o.system }] : []),
    { role: 'user', content: o.message! },
  ];
  const ctrl = new AbortController();
  const release = ctx.io.onInterrupt(() => ctrl.abort());
  try {
    if (ctx.settings.output !== 'table') {
      const { value } = await ctx.client.inference.chat(
        target,
        {
          messages,
          ...(o.maxTokens !== undefined ? { max_tokens: o.maxTokens } : {}),
          ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
        },
        { signal: ctrl.signal },
      );
      ctx.out(renderData(value, ctx.settings.output));
      return 0;
    }
    await askThrough(ctx.client, target, o, ctx.out)(messages, ctrl.signal);
    return ctrl.signal.aborted ? 130 : 0;
  } catch (e) {
    if (ctrl.signal.aborted) return 130;
    ctx.io.stderr.write(inferenceErrorText(e));
    return 1;
  } finally {
    release();
  }
}

async function interactive(ctx: Ctx, target: InferenceTarget, name: string, o: ChatOpts): Promise<number> {
  if (ctx.settings.output !== 'table')
    throw new UsageError('-o json/yaml needs --message (one exchange); a conversation is plain text');
  const tty = ctx.io.stdin.isTTY === true;
  const rl: Interface = createInterface({
    input: ctx.io.stdin,
    output: tty ? (ctx.io.stdout as NodeJS.WritableStream) : undefined,
    terminal: tty,
  });
  rl.setPrompt('> ');
  if (tty)
    ctx.note(
      `Chat with ${name}: /reset clears the conversation, /exit or Ctrl-D ends, Ctrl-C stops an answer\n`,
    );
  let stop: () => boolean = () => false;
  const interrupt = () => {
    if (!stop()) rl.close();
  };
  // At a terminal readline reads Ctrl-C itself; otherwise it arrives as a signal.
  rl.on('SIGINT', interrupt);
  const release = ctx.io.onInterrupt(interrupt);
  try {
    return await chatSession(
      {
        lines: rl,
        ask: askThrough(ctx.client, target, o, ctx.out),
        fail: (text) => ctx.io.stderr.write(text),
        note: (text) => ctx.note(text),
        prompt: () => {
          if (tty) rl.prompt();
        },
        setStopper: (fn) => {
          stop = fn;
        },
      },
      o.system,
    );
  } finally {
    release();
    rl.close();
  }
}

export function registerChat(program: Command, run: Run): void {
  program
    .command('chat')
    .description(
      'Talk to a serving endpoint through the platform (OpenAI chat completions): a conversation, or one --message',
    )
    .argument('<endpoint>', 'endpoint id, or its route (starts with /, e.g. /test-model)')
    .option('-m, --message <text>', 'send this one message, print the answer and exit')
    .option('--system <text>', 'system message that opens the conversation')
    .option(
      '--max-tokens <n>',
      "longest answer in tokens (default: the endpoint's max_output_tokens)",
      positiveInt,
    )
    .option('--temperature <t>', '0 (repeatable) to 2 (varied)', temperatureArg)
    .option('--no-stream', 'wait for the whole answer instead of printing tokens as they arrive')
    .action(
      run<ChatOpts>((ctx, o, [endpoint]) => {
        const target = targetOf(endpoint!);
        if (o.message !== undefined) {
          if (!o.message.trim()) throw new UsageError('--message is empty');
          return oneExchange(ctx, target, o);
        }
        return interactive(ctx, target, endpoint!, o);
      }),
    );
}
