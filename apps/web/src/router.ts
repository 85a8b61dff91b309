import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { session } from './platform/session.ts';

// Every page is its own chunk: the first load carries only the shell, the sign-in page and the menu.
export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/getting-started' },
  {
    path: '/sign-in',
    component: () => import('./features/auth/SignInPage.vue'),
    meta: { public: true, title: 'Sign in' },
  },
  {
    path: '/getting-started',
    component: () => import('./features/home/GettingStartedPage.vue'),
    meta: { title: 'Getting Started' },
  },
  { path: '/catalog', redirect: '/catalog/models' },
  {
    path: '/catalog/models',
    component: () => import('./features/catalog/ModelsPage.vue'),
    meta: { title: 'Models' },
  },
  {
    path: '/catalog/models/:id',
    component: () => import('./features/catalog/ModelDetailPage.vue'),
    props: true,
    meta: { title: 'Model' },
  },
  {
    path: '/catalog/datasets',
    component: () => import('./features/catalog/DatasetsPage.vue'),
    meta: { title: 'Datasets' },
  },
  {
    path: '/catalog/datasets/:id',
    component: () => import('./features/catalog/DatasetDetailPage.vue'),
    props: true,
    meta: { title: 'Dataset' },
  },
  { path: '/training', redirect: '/training/jobs' },
  {
    path: '/training/jobs',
    component: () => import('./features/training/JobsPage.vue'),
    meta: { title: 'Training' },
  },
  {
    path: '/training/jobs/new',
    component: () => import('./features/training/SubmitJobPage.vue'),
    meta: { title: 'Submit a training job' },
  },
  {
    path: '/training/jobs/:id',
    component: () => import('./features/training/JobDetailPage.vue'),
    props: true,
    meta: { title: 'Training job' },
  },
  {
    path: '/experiments',
    component: () => import('./features/experiments/RunsPage.vue'),
    meta: { title: 'Experiments' },
  },
  {
    path: '/experiments/compare',
    component: () => import('./features/experiments/ComparePage.vue'),
    meta: { title: 'Compare runs' },
  },
  { path: '/serving', redirect: '/serving/endpoints' },
  {
    path: '/serving/endpoints',
    component: () => import('./features/serving/EndpointsPage.vue'),
    meta: { title: 'Serving' },
  },
  {
    path: '/serving/endpoints/new',
    component: () => import('./features/serving/DeployPage.vue'),
    meta: { title: 'Deploy a model' },
  },
  {
    path: '/serving/endpoints/:id',
    component: () => import('./features/serving/EndpointDetailPage.vue'),
    props: true,
    meta: { title: 'Endpoint' },
  },
  { path: '/governance', redirect: '/governance/policies' },
  {
    path: '/governance/policies',
    component: () => import('./features/governance/PoliciesPage.vue'),
    meta: { title: 'Policies' },
  },
  {
    path: '/governance/audit',
    component: () => import('./features/governance/AuditPage.vue'),
    meta: { title: 'Audit' },
  },
  {
    path: '/governance/costs',
    component: () => import('./features/governance/CostsPage.vue'),
    meta: { title: 'Costs' },
  },
  { path: '/admin', redirect: '/admin/integrations' },
  {
    path: '/admin/integrations',
    component: () => import('./features/admin/IntegrationsPage.vue'),
    meta: { title: 'Integrations' },
  },
  {
    path: '/:pathMatch(.*)*',
    component: () => import('./features/home/NotFoundPage.vue'),
    meta: { title: 'Not found' },
  },
];

export function createConsoleRouter() {
  const router = createRouter({ history: createWebHistory(), routes });
  router.beforeEach((to) => {
    if (!to.meta.public && !session.token) return { path: '/sign-in', query: { next: to.fullPath } };
    return true;
  });
  router.afterEach((to) => {
    document.title = `${(to.meta.title as string | undefined) ?? 'Console'} · LLM Ops Platform`;
  });
  return router;
}
