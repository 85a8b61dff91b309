export { ensurePythonEnv, findRepoRoot, inputsHash, TORCH_FIX } from './python-env.ts';
export type { EnsurePythonEnvOptions, PythonEnv } from './python-env.ts';
