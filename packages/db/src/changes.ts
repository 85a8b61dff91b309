import type { Sql } from './sql.ts';

/** The notification channel every process of one installation listens on. */
export const CHANGES_CHANNEL = 'llmops_changes';

/**
 * What changed, for the caches of the request path: `identity` (tokens, users, memberships, projects: who
 * may do what; key `*`), `endpoint` (a serving endpoint's row; key = endpoint id), `routing` (the traffic
 * and shadow flags of an endpoint's revisions; key = endpoint id).
 */
export type ChangeTopic = 'identity' | 'endpoint' | 'routing';
const TOPICS = new Set<string>(['identity', 'endpoint', 'routing']);

/**
 * Tells every process sharing the database, this one included, that `topic`/`key` changed. It goes
 * through the database's NOTIFY, so inside a transaction it is delivered when the transaction commits,
 * and not at all when it rolls back.
 */
export async function publishChange(sql: Sql, topic: ChangeTopic, key: string): Promise<void> {
  await sql.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, `${topic}:${key}`]);
}

/**
 * Called with the key that changed, or with null when changes may have been missed (the listening
 * connection was lost and opened again): the subscriber then forgets everything it remembers.
 */
export type ChangeListener = (key: string | null) => void;

export interface ChangeFeed {
  /** Starts listening on first use; the returned function unsubscribes. */
  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void;
  close(): Promise<void>;
}

/** One LISTEN per process, shared by every subscriber; a notification it cannot parse is ignored. */
export function createChangeFeed(sql: Sql): ChangeFeed {
  const listeners = new Map<ChangeTopic, Set<ChangeListener>>();
  let listening: Promise<() => Promise<void>> | null = null;
  let closed = false;

  const dispatch = (topic: ChangeTopic, key: string | null) => {
    for (const listener of listeners.get(topic) ?? []) listener(key);
  };
  const onPayload = (payload: string) => {
    const colon = payload.indexOf(':');
    const topic = payload.slice(0, colon);
    if (colon < 1 || !TOPICS.has(topic)) return;
    dispatch(topic as ChangeTopic, payload.slice(colon + 1));
  };
  const onReset = () => {
    for (const topic of listeners.keys()) dispatch(topic, null);
  };

  return {
    subscribe(topic, listener) {
      if (closed) return () => undefined;
      let set = listeners.get(topic);
      if (!set) listeners.set(topic, (set = new Set()));
      set.add(listener);
      if (!listening) {
        listening = sql.listen(CHANGES_CHANNEL, onPayload, onReset);
        // Without notifications the subscribers' time limits still bound how stale they get.
        listening.catch(() => {
          listening = null;
        });
      }
      return () => set.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      const stop = await listening?.catch(() => null);
      await stop?.();
    },
  };
}
