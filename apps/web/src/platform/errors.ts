import { isApiError } from '@llmops/client';
import { currentRole } from './session.ts';

/** One sentence for an error shown in place: server down, role refused, not found, or the server's message. */
export function describeError(e: unknown): { title: string; detail: string } {
  if (isApiError(e)) {
    if (e.status === 0)
      return {
        title: 'The platform does not answer',
        detail: `${e.message}. The page retries on its own; check that the platform runs (npm start).`,
      };
    if (e.status === 401)
      return { title: 'Signed out', detail: `${e.message}. Sign in again with a valid token.` };
    if (e.status === 403)
      return {
        title: 'Not allowed for your role',
        detail: `Your role in this project is ${currentRole() ?? 'unknown'}: ${e.message}`,
      };
    if (e.status === 404) return { title: 'Not found', detail: e.message };
    if (e.status === 503) return { title: 'Temporarily unavailable', detail: e.message };
    return { title: `Request failed (${e.status})`, detail: e.message };
  }
  return { title: 'Something went wrong', detail: e instanceof Error ? e.message : String(e) };
}
