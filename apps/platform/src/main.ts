import { isConfigError } from '@llmops/config';
import { startPlatform } from './platform.ts';

/** Entry point of the platform process; `llmops up` supervises it. */
async function main() {
  const platform = await startPlatform();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping…\n`);
    await platform.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(
    `llmops platform failed to start: ${isConfigError(e) ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
