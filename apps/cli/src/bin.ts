#!/usr/bin/env -S node --import tsx
import { runCli } from './run.ts';

// exitCode rather than exit(): pending output to a pipe is flushed before the process ends.
process.exitCode = await runCli(process.argv.slice(2));
