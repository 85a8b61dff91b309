// Which controls make sense in which state; the server decides in the end and its refusal is shown.
export type JobControl = 'pause' | 'resume' | 'cancel' | 'retry' | 'priority';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export function controlsFor(status: string | null | undefined): Record<JobControl, boolean> {
  const s = status ?? '';
  return {
    pause: s === 'RUNNING' || s === 'ADMITTED',
    resume: s === 'PAUSED' || s === 'PREEMPTED',
    cancel: s !== '' && !TERMINAL.has(s),
    retry: s === 'FAILED' || s === 'CANCELLED',
    priority: s === 'QUEUED' || s === 'PAUSED' || s === 'PREEMPTED',
  };
}
