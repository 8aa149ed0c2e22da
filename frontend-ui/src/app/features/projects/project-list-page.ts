import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, effect, inject, signal, untracked } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatPaginatorModule, PageEvent } from '@angular/material/paginator';
import { MatTableModule } from '@angular/material/table';
import { Router, RouterLink } from '@angular/router';
import { debounceTime } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { PROJECT_STATUSES, PROJECT_TYPES, Page, Project, ProjectStatus, ProjectType } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LoadState } from '../../core/ui/load-state';
import { FilterSelect } from '../../core/ui/filter-select';
import { HumanizePipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';

@Component({
  selector: 'app-project-list-page',
  imports: [
    DatePipe, FormsModule, RouterLink, MatButtonModule, MatFormFieldModule, MatIconModule, MatInputModule,
    MatPaginatorModule, MatTableModule, LoadState, FilterSelect, StatusChip, HumanizePipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="page-header">
      <h1>Projects</h1>
      <span class="grow"></span>
      <a mat-flat-button routerLink="/projects/new" data-testid="new-project-button">
        <mat-icon>add</mat-icon> New project
      </a>
    </div>
    <div class="filters" data-testid="project-filters">
      <mat-form-field>
        <mat-label>Search</mat-label>
        <mat-icon matPrefix>search</mat-icon>
        <input matInput [ngModel]="search()" (ngModelChange)="setSearch($event)" data-testid="project-search" />
      </mat-form-field>
      <app-filter-select label="Status" [options]="statuses" [value]="status()"
        (valueChange)="setFilter(status, $event)" testId="project-status-filter" />
      <app-filter-select label="Type" [options]="types" [value]="type()"
        (valueChange)="setFilter(type, $event)" testId="project-type-filter" />
    </div>
    <app-load-state
      [loading]="projects.loading()"
      [error]="projects.error()"
      [empty]="projects.loaded() && !projects.value()?.items?.length"
      [emptyText]="filtered() ? 'No project matches these filters.' : 'No projects yet: create the first one.'"
      (retry)="projects.refresh()"
    >
      <table mat-table [dataSource]="projects.value()?.items ?? []" class="data-table" data-testid="project-list">
        <ng-container matColumnDef="name">
          <th mat-header-cell *matHeaderCellDef>Name</th>
          <td mat-cell *matCellDef="let p">
            <a [routerLink]="['/projects', p.id]" (click)="$event.stopPropagation()">{{ p.name }}</a>
            @if (p.description) {
              <div class="muted description">{{ p.description }}</div>
            }
          </td>
        </ng-container>
        <ng-container matColumnDef="type">
          <th mat-header-cell *matHeaderCellDef>Type</th>
          <td mat-cell *matCellDef="let p">{{ p.type | humanize }}</td>
        </ng-container>
        <ng-container matColumnDef="status">
          <th mat-header-cell *matHeaderCellDef>Status</th>
          <td mat-cell *matCellDef="let p"><app-status-chip [status]="p.status" /></td>
        </ng-container>
        <ng-container matColumnDef="integrations">
          <th mat-header-cell *matHeaderCellDef>Jira / Confluence</th>
          <td mat-cell *matCellDef="let p">
            {{ p.jira_enabled ? p.jira_project_key : '—' }} / {{ p.confluence_enabled ? p.confluence_space_key : '—' }}
          </td>
        </ng-container>
        <ng-container matColumnDef="created">
          <th mat-header-cell *matHeaderCellDef>Created</th>
          <td mat-cell *matCellDef="let p">{{ p.created_at | date: 'medium' }}</td>
        </ng-container>
        <tr mat-header-row *matHeaderRowDef="columns"></tr>
        <tr
          mat-row
          *matRowDef="let p; columns: columns"
          class="clickable"
          (click)="open(p)"
          [attr.data-testid]="'project-row-' + p.id"
        ></tr>
      </table>
      <mat-paginator
        [length]="projects.value()?.total ?? 0"
        [pageIndex]="pageIndex()"
        [pageSize]="pageSize()"
        [pageSizeOptions]="[10, 25, 50, 100]"
        (page)="page($event)"
      />
    </app-load-state>
  `,
  styles: `
    .description {
      font-size: 12px;
      max-width: 480px;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
  `,
})
export class ProjectListPage {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);

  protected readonly statuses = PROJECT_STATUSES;
  protected readonly types = PROJECT_TYPES;
  protected readonly columns = ['name', 'type', 'status', 'integrations', 'created'];

  protected readonly search = signal('');
  protected readonly status = signal<ProjectStatus | null>(null);
  protected readonly type = signal<ProjectType | null>(null);
  protected readonly pageIndex = signal(0);
  protected readonly pageSize = signal(25);
  private readonly searchTerm = toSignal(toObservable(this.search).pipe(debounceTime(300)), { initialValue: '' });

  protected readonly projects = loadable<Page<Project>>();

  constructor() {
    effect(() => {
      const query = {
        search: this.searchTerm().trim() || null,
        status: this.status(),
        type: this.type(),
        skip: this.pageIndex() * this.pageSize(),
        limit: this.pageSize(),
      };
      untracked(() => this.projects.load(() => this.api.projects(query)));
    });
  }

  protected filtered(): boolean {
    return !!(this.searchTerm().trim() || this.status() || this.type());
  }

  protected setSearch(value: string): void {
    this.search.set(value);
    this.pageIndex.set(0);
  }

  protected setFilter<T>(filter: { set(value: T): void }, value: T): void {
    filter.set(value);
    this.pageIndex.set(0);
  }

  protected page(event: PageEvent): void {
    this.pageSize.set(event.pageSize);
    this.pageIndex.set(event.pageIndex);
  }

  protected open(project: Project): void {
    void this.router.navigate(['/projects', project.id]);
  }
}
