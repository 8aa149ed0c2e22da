import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatPaginatorModule, PageEvent } from '@angular/material/paginator';
import { RouterLink } from '@angular/router';
import { debounceTime, map } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import {
  Page, Project, WORKFLOW_STATUSES, WORKFLOW_TYPES, Workflow, WorkflowStatus, WorkflowType,
} from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LiveEvents } from '../../core/events/live-events';
import { LoadState } from '../../core/ui/load-state';
import { FilterSelect } from '../../core/ui/filter-select';
import { liveRunProgress } from './live-progress';
import { WorkflowTable } from './workflow-table';

@Component({
  selector: 'app-workflow-list-page',
  imports: [
    RouterLink, MatButtonModule, MatIconModule, MatPaginatorModule,
    LoadState, FilterSelect, WorkflowTable,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="page-header">
      <h1>Workflows</h1>
      <span class="grow"></span>
      <a mat-flat-button routerLink="/workflows/new" data-testid="new-workflow-button">
        <mat-icon>add</mat-icon> New workflow
      </a>
    </div>
    <div class="filters" data-testid="workflow-filters">
      <app-filter-select label="Status" [options]="statuses" [value]="status()"
        (valueChange)="setFilter(status, $event)" testId="workflow-status-filter" />
      <app-filter-select label="Type" [options]="types" [value]="type()"
        (valueChange)="setFilter(type, $event)" testId="workflow-type-filter" />
      <app-filter-select label="Project" [options]="projectOptions()" [value]="projectId()"
        (valueChange)="setFilter(projectId, $event)" testId="workflow-project-filter" />
    </div>
    <app-load-state
      [loading]="workflows.loading()"
      [error]="workflows.error()"
      [empty]="workflows.loaded() && !workflows.value()?.items?.length"
      [emptyText]="status() || type() || projectId() ? 'No workflow matches these filters.' : 'No workflows yet: start one from a template.'"
      (retry)="workflows.refresh()"
    >
      <app-workflow-table [workflows]="workflows.value()?.items ?? []" [live]="live()" />
      <mat-paginator
        [length]="workflows.value()?.total ?? 0"
        [pageIndex]="pageIndex()"
        [pageSize]="pageSize()"
        [pageSizeOptions]="[10, 25, 50, 100]"
        (page)="page($event)"
      />
    </app-load-state>
  `,
})
export class WorkflowListPage {
  private readonly api = inject(ApiClient);

  protected readonly statuses = WORKFLOW_STATUSES;
  protected readonly types = WORKFLOW_TYPES;
  protected readonly status = signal<WorkflowStatus | null>(null);
  protected readonly type = signal<WorkflowType | null>(null);
  protected readonly projectId = signal<string | null>(null);
  protected readonly pageIndex = signal(0);
  protected readonly pageSize = signal(25);

  protected readonly workflows = loadable<Page<Workflow>>();
  protected readonly projects = loadable<Project[]>();
  protected readonly projectOptions = computed(() =>
    (this.projects.value() ?? []).map((p) => ({ value: p.id, label: p.name })),
  );
  protected readonly live = liveRunProgress();

  constructor() {
    this.projects.load(() => this.api.projects({ limit: 500 }).pipe(map((page) => page.items)));
    effect(() => {
      const query = {
        status: this.status(),
        workflow_type: this.type(),
        project_id: this.projectId(),
        skip: this.pageIndex() * this.pageSize(),
        limit: this.pageSize(),
      };
      untracked(() => this.workflows.load(() => this.api.workflows(query)));
    });
    // New runs and changes of status (which may move a run in or out of the filter) reload the page.
    inject(LiveEvents)
      .on('workflow_status_changed')
      .pipe(debounceTime(1000), takeUntilDestroyed())
      .subscribe(() => this.workflows.refresh());
  }

  protected setFilter<T>(filter: { set(value: T): void }, value: T): void {
    filter.set(value);
    this.pageIndex.set(0);
  }

  protected page(event: PageEvent): void {
    this.pageSize.set(event.pageSize);
    this.pageIndex.set(event.pageIndex);
  }
}
