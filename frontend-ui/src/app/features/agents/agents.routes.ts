import { Routes } from '@angular/router';

export const AGENT_ROUTES: Routes = [
  {
    path: '',
    title: 'Agents · Conclave',
    loadComponent: () => import('./agent-list-page').then((m) => m.AgentListPage),
  },
  {
    path: 'new',
    title: 'New agent · Conclave',
    loadComponent: () => import('./agent-create-page').then((m) => m.AgentCreatePage),
  },
  {
    path: ':agentId',
    title: 'Agent · Conclave',
    loadComponent: () => import('./agent-edit-page').then((m) => m.AgentEditPage),
  },
];
