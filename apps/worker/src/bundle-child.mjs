// Bundles the workflow code (webpack, through the Temporal SDK) into the file given as argument, then
// exits. The worker runs it as a child process so that webpack's memory never stays in the worker.
import { writeFile, rename } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';

const [workflowsPath, outFile] = process.argv.slice(2);
if (!workflowsPath || !outFile) {
  process.stderr.write('usage: bundle-child.mjs WORKFLOWS_PATH OUT_FILE\n');
  process.exit(2);
}
const silent = () => {};
const { code } = await bundleWorkflowCode({
  workflowsPath,
  logger: { log: silent, trace: silent, debug: silent, info: silent, warn: silent, error: console.error },
});
const partial = `${outFile}.${process.pid}.tmp`;
await writeFile(partial, code);
await rename(partial, outFile);
