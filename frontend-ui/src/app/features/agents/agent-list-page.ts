import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatPaginatorModule, PageEvent } from '@angular/material/paginator';
import { MatTableModule } from '@angular/material/table';
import { Router, RouterLink } from '@angular/router';
import { map } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { AGENT_ROLES, AGENT_STATUSES, Agent, AgentRole, AgentStatus, Page, Project } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LiveEvents } from '../../core/events/live-events';
import { LoadState } from '../../core/ui/load-state';
import { FilterSelect } from '../../core/ui/filter-select';
import { HumanizePipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';

interface AgentStatusEvent {
  agent_id: string;
  status: string;
  current_task: string | null;
}

@Component({
  selector: 'app-agent-list-page',
  imports: [
    DatePipe, RouterLink, MatButtonModule, MatIconModule, MatPaginatorModule,
    MatTableModule, LoadState, FilterSelect, HumanizePipe, StatusChip,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="page-header">
      <h1>Agents</h1>
      <span class="grow"></span>
      <a mat-flat-button routerLink="/agents/new" data-testid="new-agent-button"><mat-icon>add</mat-icon> New agent</a>
    </div>
    <div class="filters" data-testid="agent-filters">
      <app-filter-select label="Role" [options]="roles" [value]="role()"
        (valueChange)="setFilter(role, $event)" testId="agent-role-filter" />
      <app-filter-select label="Status" [options]="statuses" [value]="status()"
        (valueChange)="setFilter(status, $event)" testId="agent-status-filter" />
      <app-filter-select label="Project" [options]="projectOptions()" [value]="projectId()"
        (valueChange)="setFilter(projectId, $event)" testId="agent-project-filter" />
    </div>
    <app-load-state
      [loading]="agents.loading()"
      [error]="agents.error()"
      [empty]="agents.loaded() && !agents.value()?.items?.length"
      [emptyText]="role() || status() || projectId() ? 'No agent matches these filters.' : 'No agents yet: create one from a role template.'"
      (retry)="agents.refresh()"
    >
      <table mat-table [dataSource]="agents.value()?.items ?? []" class="data-table" data-testid="agent-list">
        <ng-container matColumnDef="name">
          <th mat-header-cell *matHeaderCellDef>Name</th>
          <td mat-cell *matCellDef="let a"><a [routerLink]="['/agents', a.agent_id]" (click)="$event.stopPropagation()">{{ a.name }}</a></td>
        </ng-container>
        <ng-container matColumnDef="role">
          <th mat-header-cell *matHeaderCellDef>Role</th>
          <td mat-cell *matCellDef="let a">{{ a.role | humanize }}</td>
        </ng-container>
        <ng-container matColumnDef="status">
          <th mat-header-cell *matHeaderCellDef>Status</th>
          <td mat-cell *matCellDef="let a">
            <app-status-chip [status]="a.status" />
            @if (a.current_task) {
              <div class="muted small">{{ a.current_task }}</div>
            }
          </td>
        </ng-container>
        <ng-container matColumnDef="project">
          <th mat-header-cell *matHeaderCellDef>Project</th>
          <td mat-cell *matCellDef="let a">
            @if (a.project_id) {
              <a [routerLink]="['/projects', a.project_id]" (click)="$event.stopPropagation()">{{ projectNames()[a.project_id] ?? 'a project' }}</a>
            } @else {
              <span class="muted">none</span>
            }
          </td>
        </ng-container>
        <ng-container matColumnDef="model">
          <th mat-header-cell *matHeaderCellDef>Model</th>
          <td mat-cell *matCellDef="let a" class="mono">{{ a.model }} · t={{ a.temperature }} · {{ a.max_tokens }}</td>
        </ng-container>
        <ng-container matColumnDef="active">
          <th mat-header-cell *matHeaderCellDef>Last active</th>
          <td mat-cell *matCellDef="let a">{{ a.last_active | date: 'short' }}</td>
        </ng-container>
        <tr mat-header-row *matHeaderRowDef="columns"></tr>
        <tr mat-row *matRowDef="let a; columns: columns" class="clickable" (click)="open(a)" [attr.data-testid]="'agent-row-' + a.agent_id"></tr>
      </table>
      <mat-paginator
        [length]="agents.value()?.total ?? 0"
        [pageIndex]="pageIndex()"
        [pageSize]="pageSize()"
        [pageSizeOptions]="[10, 25, 50, 100]"
        (page)="page($event)"
      />
    </app-load-state>
  `,
  styles: `
    .small {
      font-size: 12px;
    }
  `,
})
export class AgentListPage {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);

  protected readonly roles = AGENT_ROLES;
  protected readonly statuses = AGENT_STATUSES;
  protected readonly columns = ['name', 'role', 'status', 'project', 'model', 'active'];
  protected readonly role = signal<AgentRole | null>(null);
  protected readonly status = signal<AgentStatus | null>(null);
  protected readonly projectId = signal<string | null>(null);
  protected readonly pageIndex = signal(0);
  protected readonly pageSize = signal(25);

  protected readonly agents = loadable<Page<Agent>>();
  protected readonly projects = loadable<Project[]>();
  protected readonly projectOptions = computed(() =>
    (this.projects.value() ?? []).map((p) => ({ value: p.id, label: p.name })),
  );
  protected readonly projectNames = computed<Record<string, string | undefined>>(() =>
    Object.fromEntries((this.projects.value() ?? []).map((p) => [p.id, p.name])),
  );

  constructor() {
    this.projects.load(() => this.api.projects({ limit: 500 }).pipe(map((page) => page.items)));
    effect(() => {
      const query = {
        role: this.role(),
        status: this.status(),
        project_id: this.projectId(),
        skip: this.pageIndex() * this.pageSize(),
        limit: this.pageSize(),
      };
      untracked(() => this.agents.load(() => this.api.agents(query)));
    });
    // An agent's status shows as it changes; a filter by status needs the list again.
    inject(LiveEvents)
      .on<AgentStatusEvent>('agent_status_changed')
      .pipe(takeUntilDestroyed())
      .subscribe((event) => {
        if (this.status()) {
          this.agents.refresh();
          return;
        }
        const { agent_id, status, current_task } = event.data;
        this.agents.update((page) => ({
          ...page,
          items: page.items.map((a) => (a.agent_id === agent_id ? { ...a, status, current_task } : a)),
        }));
      });
  }

  protected setFilter<T>(filter: { set(value: T): void }, value: T): void {
    filter.set(value);
    this.pageIndex.set(0);
  }

  protected page(event: PageEvent): void {
    this.pageSize.set(event.pageSize);
    this.pageIndex.set(event.pageIndex);
  }

  protected open(agent: Agent): void {
    void this.router.navigate(['/agents', agent.agent_id]);
  }
}
