import { Routes } from '@angular/router';

export const PROJECT_ROUTES: Routes = [
  {
    path: '',
    title: 'Projects · Conclave',
    loadComponent: () => import('./project-list-page').then((m) => m.ProjectListPage),
  },
  {
    path: 'new',
    title: 'New project · Conclave',
    loadComponent: () => import('./project-create-page').then((m) => m.ProjectCreatePage),
  },
  {
    path: ':projectId',
    title: 'Project · Conclave',
    loadComponent: () => import('./project-detail-page').then((m) => m.ProjectDetailPage),
  },
];
