import { Routes } from '@angular/router';

export const routes: Routes = [
  {
    path: '',
    pathMatch: 'full',
    title: 'Dashboard · Conclave',
    loadComponent: () => import('./features/dashboard/dashboard-page').then((m) => m.DashboardPage),
  },
  {
    path: 'projects',
    loadChildren: () => import('./features/projects/projects.routes').then((m) => m.PROJECT_ROUTES),
  },
  {
    path: 'agents',
    loadChildren: () => import('./features/agents/agents.routes').then((m) => m.AGENT_ROUTES),
  },
  {
    path: 'workflows',
    loadChildren: () => import('./features/workflows/workflows.routes').then((m) => m.WORKFLOW_ROUTES),
  },
  {
    path: '**',
    title: 'Not found · Conclave',
    loadComponent: () => import('./core/ui/not-found-page').then((m) => m.NotFoundPage),
  },
];
