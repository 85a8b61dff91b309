export { ensurePythonEnv, findRepoRoot, inputsHash, TORCH_FIX } from './python-env.ts';
export type { EnsurePythonEnvOptions, PythonEnv } from './python-env.ts';
export { ensureMlflowEnv, MLFLOW_LOCK_FILE, mlflowVersionOf } from './mlflow-env.ts';
export type { EnsureMlflowEnvOptions, MlflowEnv } from './mlflow-env.ts';
