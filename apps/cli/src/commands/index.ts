import type { Command } from 'commander';
import type { Run } from '../program.ts';
import { registerCatalog } from './catalog.ts';
import { registerChat } from './chat.ts';
import { registerExperiments } from './experiments.ts';
import { registerGovernance } from './governance.ts';
import { registerIdentity } from './identity.ts';
import { registerRegistry } from './registry.ts';
import { registerServing } from './serving.ts';
import { registerTracking } from './tracking.ts';
import { registerTraining } from './training.ts';
import { registerPlatform } from './up.ts';

export function registerCommands(program: Command, run: Run): void {
  registerPlatform(program, run);
  registerIdentity(program, run);
  registerTraining(program, run);
  registerGovernance(program, run);
  registerCatalog(program, run);
  registerServing(program, run);
  registerChat(program, run);
  registerRegistry(program, run);
  registerExperiments(program, run);
  registerTracking(program, run);
}
