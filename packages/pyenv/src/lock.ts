import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cross-process mutual exclusion with a lock directory holding the owner's pid, so two platform processes (or
 * parallel test files) never run pip on the same venv at once. A lock whose owner died is taken over.
 */
export async function withLock<T>(
  dir: string,
  progress: (msg: string) => void,
  fn: () => Promise<T>,
  timeoutMs = 45 * 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => ''));
      if (owner > 0 && !alive(owner)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${dir} (held by pid ${owner || '?'})`);
      if (!told) progress(`waiting for another process preparing the Python environment (${dir})`);
      told = true;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
