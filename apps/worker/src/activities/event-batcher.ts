import type { AppendJobEventInput, Db } from '@llmops/db';

/** How long a write waits for the writes of other runs to join its statement. */
export const EVENT_BATCH_WINDOW_MS = 200;

/** Where an attempt recorder writes its job events: resolves once they are stored, rejects if they are not. */
export interface JobEventSink {
  append(events: readonly AppendJobEventInput[]): Promise<void>;
}

/** Each write in its own statement. */
export function directJobEventSink(db: Pick<Db, 'repos'>): JobEventSink {
  return {
    async append(events) {
      await db.repos.jobs.appendEvents(events);
    },
  };
}

interface PendingWrite {
  events: readonly AppendJobEventInput[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Joins the event writes of every run this worker supervises into one statement per window. With hundreds
 * of runs each recording progress and checkpoints every few seconds, one INSERT per run and flush was the
 * largest part of the worker's steady CPU on the embedded database. A write resolves once its statement
 * committed; when the statement fails, each write is tried alone, so one run's bad event (its job gone)
 * fails only that run's write, and a database outage fails them all (recorders keep their events and
 * write them again). Statements run one at a time, in the order the writes arrived.
 */
export function createJobEventBatcher(db: Pick<Db, 'repos'>, windowMs = EVENT_BATCH_WINDOW_MS): JobEventSink {
  let pending: PendingWrite[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();

  const write = async (batch: PendingWrite[]): Promise<void> => {
    try {
      await db.repos.jobs.appendEvents(batch.flatMap((w) => w.events));
      for (const w of batch) w.resolve();
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
    }
    for (const w of batch) {
      try {
        await db.repos.jobs.appendEvents(w.events);
        w.resolve();
      } catch (error) {
        w.reject(error);
      }
    }
  };

  const flush = () => {
    timer = null;
    const batch = pending;
    pending = [];
    writing = writing.then(() => write(batch));
  };

  return {
    append(events) {
      if (events.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({ events, resolve, reject });
        timer ??= setTimeout(flush, windowMs);
      });
    },
  };
}
