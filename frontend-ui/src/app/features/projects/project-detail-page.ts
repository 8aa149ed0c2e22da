import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { FormBuilder, FormsModule, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatTableModule } from '@angular/material/table';
import { MatTabsModule } from '@angular/material/tabs';
import { Router, RouterLink } from '@angular/router';
import { debounceTime, filter, map } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { apiErrorMessage } from '../../core/api/api-error';
import { Agent, Page, Project, Workflow } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LiveEvents } from '../../core/events/live-events';
import { confirmAction } from '../../core/ui/confirm-dialog';
import { LoadState } from '../../core/ui/load-state';
import { Notifier } from '../../core/ui/notifier';
import { HumanizePipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';
import { liveRunProgress } from '../workflows/live-progress';
import { WorkflowTable } from '../workflows/workflow-table';
import { ProjectFields } from './project-fields';
import { fromProject, projectForm, toProjectUpdate } from './project-form';

/** One project: its agents, its runs, and its settings (the edit form); delete with confirmation. */
@Component({
  selector: 'app-project-detail-page',
  imports: [
    DatePipe, FormsModule, ReactiveFormsModule, RouterLink, MatButtonModule, MatFormFieldModule, MatIconModule,
    MatProgressBarModule, MatSelectModule, MatTableModule, MatTabsModule, LoadState, HumanizePipe, StatusChip,
    ProjectFields, WorkflowTable,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './project-detail-page.html',
  styles: `
    .summary {
      display: flex;
      gap: 24px;
      flex-wrap: wrap;
      margin-bottom: 8px;
    }
    .tab-body {
      padding: 16px 0;
    }
    .assign {
      display: flex;
      gap: 12px;
      align-items: center;
      margin-top: 16px;
    }
    .assign mat-form-field {
      width: 320px;
    }
    .pre {
      white-space: pre-line;
    }
  `,
})
export class ProjectDetailPage {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);
  private readonly dialog = inject(MatDialog);
  private readonly notifier = inject(Notifier);

  /** From the route (`/projects/:projectId`). */
  readonly projectId = input.required<string>();

  protected readonly project = loadable<Project>();
  protected readonly agents = loadable<Page<Agent>>();
  protected readonly workflows = loadable<Page<Workflow>>();
  protected readonly otherAgents = loadable<Agent[]>();
  protected readonly live = liveRunProgress();
  protected readonly form = projectForm(inject(FormBuilder));
  protected readonly tab = signal(0);
  protected readonly saving = signal(false);
  protected readonly saveError = signal<string | null>(null);
  protected readonly warnings = signal<string[]>([]);
  protected readonly deleting = signal(false);
  protected readonly toAssign = signal<string | null>(null);
  protected readonly agentColumns = ['name', 'role', 'status', 'model', 'task', 'actions'];
  protected readonly agentCount = computed(() => this.agents.value()?.total ?? 0);

  constructor() {
    effect(() => {
      const id = this.projectId();
      untracked(() => this.loadAll(id));
    });
    // Agents change state and runs progress while the page is open.
    const events = inject(LiveEvents);
    events
      .on('agent_status_changed')
      .pipe(debounceTime(500), takeUntilDestroyed())
      .subscribe(() => this.agents.refresh());
    events
      .on('workflow_status_changed')
      .pipe(
        map((e) => e.workflow_id),
        filter((id) => !!id),
        debounceTime(500),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.workflows.refresh());
  }

  private loadAll(id: string): void {
    this.project.load(() =>
      this.api.project(id).pipe(
        map((project) => {
          this.form.reset(fromProject(project));
          return project;
        }),
      ),
    );
    this.agents.load(() => this.api.projectAgents(id, { limit: 500 }));
    this.workflows.load(() => this.api.projectWorkflows(id, { limit: 100 }));
    this.otherAgents.load(() =>
      this.api.agents({ limit: 500 }).pipe(map((page) => page.items.filter((a) => a.project_id !== id))),
    );
  }

  protected save(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.saving.set(true);
    this.saveError.set(null);
    this.api.updateProject(this.projectId(), toProjectUpdate(this.form.getRawValue())).subscribe({
      next: (saved) => {
        this.saving.set(false);
        this.warnings.set(saved.warnings ?? []);
        this.project.set(saved);
        this.form.reset(fromProject(saved));
        this.notifier.done('Project saved.');
      },
      error: (error: unknown) => {
        this.saving.set(false);
        this.saveError.set(apiErrorMessage(error));
      },
    });
  }

  protected resetForm(): void {
    const project = this.project.value();
    if (project) {
      this.form.reset(fromProject(project));
    }
    this.saveError.set(null);
  }

  protected delete(): void {
    const project = this.project.value();
    if (!project) {
      return;
    }
    confirmAction(this.dialog, {
      title: `Delete ${project.name}?`,
      message:
        'The project is deleted with all its workflows (their messages, decisions, events and files); runs still ' +
        'going are stopped. Its agents stay, without a project. This cannot be undone.',
      confirm: 'Delete project',
    }).subscribe((confirmed) => {
      if (!confirmed) {
        return;
      }
      this.deleting.set(true);
      this.api.deleteProject(project.id).subscribe({
        next: () => {
          this.notifier.done(`Project ${project.name} deleted.`);
          void this.router.navigate(['/projects']);
        },
        error: (error: unknown) => {
          this.deleting.set(false);
          this.notifier.failed(error, 'The project was not deleted');
        },
      });
    });
  }

  protected assign(): void {
    const agentId = this.toAssign();
    if (!agentId) {
      return;
    }
    this.api.assignAgent(agentId, this.projectId()).subscribe({
      next: (agent) => {
        this.toAssign.set(null);
        this.notifier.done(`${agent.name} joined the project.`);
        this.agents.refresh();
        this.otherAgents.refresh();
      },
      error: (error: unknown) => this.notifier.failed(error, 'The agent was not assigned'),
    });
  }

  protected unassign(agent: Agent): void {
    this.api.assignAgent(agent.agent_id, null).subscribe({
      next: () => {
        this.notifier.done(`${agent.name} left the project.`);
        this.agents.refresh();
        this.otherAgents.refresh();
      },
      error: (error: unknown) => this.notifier.failed(error, 'The agent was not unassigned'),
    });
  }
}
