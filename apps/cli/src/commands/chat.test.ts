import { describe, expect, it } from 'vitest';
import { ApiError, type ChatMessage } from '@llmops/client';
import { chatSession, inferenceErrorText, targetOf, temperatureArg, type Ask } from './chat.ts';

async function* linesOf(lines: string[]) {
  for (const l of lines) yield l;
}

function session(lines: string[], ask: Ask, system?: string) {
  const log = { asked: [] as ChatMessage[][], failed: '', notes: '', prompts: 0 };
  let stopper: () => boolean = () => false;
  const done = chatSession(
    {
      lines: linesOf(lines),
      ask: (messages, signal) => {
        log.asked.push(messages);
        return ask(messages, signal);
      },
      fail: (t) => (log.failed += t),
      note: (t) => (log.notes += t),
      prompt: () => log.prompts++,
      setStopper: (fn) => (stopper = fn),
    },
    system,
  );
  return { done, log, stop: () => stopper() };
}

describe('chatSession', () => {
  it('sends the whole conversation with every turn, after the system message', async () => {
    const { done, log } = session(['hi', '', 'and you?'], async (m) => `answer ${m.length}`, 'Be brief.');
    expect(await done).toBe(0);
    expect(log.asked).toEqual([
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'answer 2' },
        { role: 'user', content: 'and you?' },
      ],
    ]);
    expect(log.prompts).toBe(4);
  });

  it('leaves a failed turn out of the conversation, shows why, and goes on', async () => {
    let n = 0;
    const { done, log } = session(['one', 'two', 'three'], async () => {
      if (++n === 2)
        throw new ApiError({
          status: 429,
          code: 'RATE_LIMITED',
          message: 'busy',
          details: { code: 'too_many_concurrent_requests', retryAfterSeconds: 1 },
        });
      return `a${n}`;
    });
    await done;
    expect(log.failed).toBe('error: busy (429 too_many_concurrent_requests; retry after 1 s)\n');
    expect(log.asked[2]!.map((m) => m.content)).toEqual(['one', 'a1', 'three']);
  });

  it('/reset starts over and /exit ends before the lines that follow', async () => {
    const { done, log } = session(['one', '/reset', 'two', '/exit', 'three'], async () => 'x');
    await done;
    expect(log.asked.map((m) => m.map((x) => x.content))).toEqual([['one'], ['two']]);
    expect(log.notes).toContain('(conversation cleared)');
  });

  it('stops the answer under way without ending the conversation; the stopped turn is dropped', async () => {
    let first = true;
    const stopped: boolean[] = [];
    const s = session(['long', 'short'], (_m, signal) => {
      if (!first) return Promise.resolve('ok');
      first = false;
      return new Promise((resolve) => {
        signal.addEventListener('abort', () => resolve('partial'));
        setTimeout(() => stopped.push(s.stop()), 5);
      });
    });
    await s.done;
    expect(stopped).toEqual([true]);
    expect(s.log.notes).toContain('(answer stopped)');
    expect(s.log.asked[1]!.map((m) => m.content)).toEqual(['short']);
    expect(s.stop()).toBe(false);
  });
});

describe('inferenceErrorText', () => {
  it('gives the server message, the status and code, and a hint where one helps', () => {
    expect(
      inferenceErrorText(
        new ApiError({
          status: 404,
          code: 'NOT_FOUND',
          message: "No serving endpoint at route '/x'",
          details: { code: 'endpoint_not_found' },
        }),
      ),
    ).toBe(
      "error: No serving endpoint at route '/x' (404 endpoint_not_found)\nhint: `llmops endpoints list` shows the endpoints of this project, with their ids and routes\n",
    );
    expect(
      inferenceErrorText(
        new ApiError({
          status: 503,
          code: 'UNAVAILABLE',
          message: 'not ready',
          details: { code: 'not_ready', retryAfterSeconds: 5 },
        }),
      ),
    ).toMatch(/^error: not ready \(503 not_ready; retry after 5 s\)\nhint: `llmops endpoints status <id>`/);
    expect(
      inferenceErrorText(
        new ApiError({ status: 0, code: 'UNAVAILABLE', message: 'Cannot reach the platform' }),
      ),
    ).toBe('error: Cannot reach the platform\n');
  });
});

describe('chat arguments', () => {
  it('reads a route by its leading slash and an id otherwise', () => {
    expect(targetOf('/team/chat')).toEqual({ route: '/team/chat' });
    expect(targetOf('e336')).toEqual({ endpointId: 'e336' });
  });
  it('accepts temperatures from 0 to 2 only', () => {
    expect(temperatureArg('0')).toBe(0);
    expect(temperatureArg('1.5')).toBe(1.5);
    for (const bad of ['-0.1', '2.5', 'hot', ' '])
      expect(() => temperatureArg(bad)).toThrow(/expected a number from 0 to 2/);
  });
});
