import { reactive, readonly } from 'vue';
import { createClient, isApiError, type Client, type Whoami } from '@llmops/client';
import { allows, type Capability } from './roles.ts';

const TOKEN_KEY = 'llmops.token';
const PROJECT_KEY = 'llmops.project';

interface SessionState {
  token: string | null;
  /** The chosen project's slug; null: the token's default project. */
  project: string | null;
  me: Whoami | null;
  /** Bumped on every sign-in or project switch, so pages reload their data. */
  generation: number;
}

const state = reactive<SessionState>({
  token: localStorage.getItem(TOKEN_KEY),
  project: localStorage.getItem(PROJECT_KEY),
  me: null,
  generation: 0,
});

export const session = readonly(state);

/** A client for the platform that serves this page, as the signed-in user in the chosen project. */
export function api(): Client {
  return createClient({
    baseUrl: window.location.origin,
    token: state.token ?? undefined,
    project: state.project ?? undefined,
    timeoutMs: 20_000,
  });
}

/** Checks the token with GET /whoami; keeps it only if the platform accepts it. */
export async function signIn(token: string): Promise<Whoami> {
  const trimmed = token.trim();
  if (!trimmed) throw new Error('Enter the token that `llmops up` printed (or .llmops/admin-token).');
  const me = await createClient({
    baseUrl: window.location.origin,
    token: trimmed,
    timeoutMs: 20_000,
  }).whoami();
  state.token = trimmed;
  state.project = me.project?.slug ?? null;
  state.me = me;
  state.generation++;
  localStorage.setItem(TOKEN_KEY, trimmed);
  if (state.project) localStorage.setItem(PROJECT_KEY, state.project);
  return me;
}

export function signOut(): void {
  state.token = null;
  state.project = null;
  state.me = null;
  state.generation++;
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(PROJECT_KEY);
}

/** Loads who the stored token belongs to; a token the platform no longer accepts signs the user out. */
export async function restoreSession(): Promise<void> {
  if (!state.token || state.me) return;
  try {
    state.me = await api().whoami();
  } catch (e) {
    if (isApiError(e) && e.status === 401) signOut();
    else if (isApiError(e) && e.status === 404 && state.project) {
      // The stored project is gone or no longer the user's: fall back to the token's default.
      state.project = null;
      localStorage.removeItem(PROJECT_KEY);
      state.me = await api().whoami();
    } else throw e;
  }
}

export async function switchProject(slug: string): Promise<void> {
  const previous = state.project;
  state.project = slug;
  try {
    state.me = await api().whoami();
  } catch (e) {
    state.project = previous;
    throw e;
  }
  localStorage.setItem(PROJECT_KEY, slug);
  state.generation++;
}

export function currentRole() {
  return state.me?.project?.role ?? null;
}

export function can(capability: Capability): boolean {
  return allows(currentRole(), capability, state.me?.orgAdmin ?? false);
}
