export { createTestDb, testDbKind } from './test-db.ts';
export type { TestDb } from './test-db.ts';
export { seedEndpoint, seedModel, seedProject } from './factories.ts';
export type { SeededProject } from './factories.ts';
export {
  QUICKSTART_DATASET,
  QUICKSTART_MODEL,
  quickstartEndpointBody,
  quickstartJobBody,
} from './quickstart.ts';
export { startTestMlflow } from './mlflow.ts';
export type { TestMlflow } from './mlflow.ts';
export { startFakeKubeApi } from './fake-kube-api.ts';
export type { FakeKubeApi, FakeRequest } from './fake-kube-api.ts';
