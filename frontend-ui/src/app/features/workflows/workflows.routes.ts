import { Routes } from '@angular/router';

export const WORKFLOW_ROUTES: Routes = [
  {
    path: '',
    title: 'Workflows · Conclave',
    loadComponent: () => import('./workflow-list-page').then((m) => m.WorkflowListPage),
  },
  {
    path: 'new',
    title: 'New workflow · Conclave',
    loadComponent: () => import('./workflow-create-page').then((m) => m.WorkflowCreatePage),
  },
  {
    path: ':workflowId',
    title: 'Workflow · Conclave',
    loadComponent: () => import('./workflow-detail-page').then((m) => m.WorkflowDetailPage),
  },
];
