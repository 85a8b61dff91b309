#!/usr/bin/env node
// Lets `npx llmops` run the TypeScript sources directly: tsx is resolved from here, not from the caller's directory.
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
