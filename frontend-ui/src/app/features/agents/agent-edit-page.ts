import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { FormBuilder, FormsModule, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { Router, RouterLink } from '@angular/router';
import { map } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { apiErrorMessage } from '../../core/api/api-error';
import { Agent, AgentTemplate, Health, Project } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { confirmAction } from '../../core/ui/confirm-dialog';
import { LoadState } from '../../core/ui/load-state';
import { Notifier } from '../../core/ui/notifier';
import { HumanizePipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';
import { AgentFields } from './agent-fields';
import { agentForm, fromAgent, roleModels, toAgentUpdate } from './agent-form';

/** One agent: its configuration (edit), its project (assign), delete. */
@Component({
  selector: 'app-agent-edit-page',
  imports: [
    DatePipe, FormsModule, ReactiveFormsModule, RouterLink, MatButtonModule, MatFormFieldModule, MatIconModule,
    MatProgressBarModule, MatSelectModule, LoadState, HumanizePipe, StatusChip, AgentFields,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <app-load-state [loading]="agent.loading()" [error]="agent.error()" (retry)="agent.refresh()">
      @if (agent.value(); as a) {
        <div class="page-header">
          <h1 data-testid="agent-title">{{ a.name }}</h1>
          <app-status-chip [status]="a.status" />
          <span class="muted">{{ a.role | humanize }}</span>
          <span class="grow"></span>
          <button mat-stroked-button color="warn" type="button" (click)="delete(a)" data-testid="agent-delete-button">
            <mat-icon>delete</mat-icon> Delete
          </button>
        </div>
        <p class="muted">
          @if (a.current_task) {
            Working on: {{ a.current_task }} ·
          }
          Last active {{ a.last_active ? (a.last_active | date: 'medium') : 'never' }} · created
          {{ a.created_at | date: 'medium' }}
        </p>

        <section class="assignment" data-testid="agent-assignment">
          <h3>Project</h3>
          <div class="assign-row">
            <mat-form-field>
              <mat-label>Assigned to</mat-label>
              <mat-select [ngModel]="projectId()" (ngModelChange)="projectId.set($event)" data-testid="agent-assign-project">
                <mat-option [value]="null">No project</mat-option>
                @for (p of projects.value() ?? []; track p.id) {
                  <mat-option [value]="p.id">{{ p.name }}</mat-option>
                }
              </mat-select>
            </mat-form-field>
            <button
              mat-stroked-button
              type="button"
              (click)="assign()"
              [disabled]="projectId() === (a.project_id ?? null)"
              data-testid="agent-assign-button"
            >
              {{ projectId() ? 'Assign' : 'Unassign' }}
            </button>
            @if (a.project_id) {
              <a [routerLink]="['/projects', a.project_id]">Open the project</a>
            }
          </div>
        </section>

        <form [formGroup]="form" (ngSubmit)="save()" data-testid="agent-form">
          <h3>Configuration</h3>
          <app-agent-fields [form]="form" [roleModels]="modelMap()" [services]="services()" />
          @if (saveError(); as message) {
            <div class="error-box" role="alert">
              <mat-icon>error_outline</mat-icon><span class="pre" data-testid="error-message">{{ message }}</span>
            </div>
          }
          @if (saving()) {
            <mat-progress-bar mode="indeterminate" />
          }
          <div class="form-actions">
            <button mat-flat-button type="submit" [disabled]="saving() || form.pristine" data-testid="agent-save">Save</button>
            <button mat-button type="button" (click)="form.reset(fromAgent(a))" [disabled]="form.pristine">Discard changes</button>
          </div>
        </form>
      }
    </app-load-state>
  `,
  styles: `
    .assign-row {
      display: flex;
      gap: 12px;
      align-items: center;
    }
    .assign-row mat-form-field {
      width: 320px;
    }
    .pre {
      white-space: pre-line;
    }
  `,
})
export class AgentEditPage {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);
  private readonly dialog = inject(MatDialog);
  private readonly notifier = inject(Notifier);

  readonly agentId = input.required<string>();

  protected readonly form = agentForm(inject(FormBuilder));
  protected readonly agent = loadable<Agent>();
  protected readonly projects = loadable<Project[]>();
  /** The model map (the role templates' models) and the model services, for the model field's hint. */
  protected readonly templates = loadable<AgentTemplate[]>();
  protected readonly health = loadable<Health>();
  protected readonly modelMap = computed(() => roleModels(this.templates.value() ?? []));
  protected readonly services = computed(() => this.health.value()?.models ?? []);
  protected readonly projectId = signal<string | null>(null);
  protected readonly saving = signal(false);
  protected readonly saveError = signal<string | null>(null);
  protected readonly fromAgent = fromAgent;

  constructor() {
    effect(() => {
      const id = this.agentId();
      untracked(() =>
        this.agent.load(() =>
          this.api.agent(id).pipe(
            map((agent) => {
              this.shown(agent);
              return agent;
            }),
          ),
        ),
      );
    });
    this.projects.load(() => this.api.projects({ limit: 500 }).pipe(map((page) => page.items)));
    this.templates.load(() => this.api.agentTemplates());
    this.health.load(() => this.api.health());
  }

  private shown(agent: Agent): void {
    this.form.reset(fromAgent(agent));
    this.projectId.set(agent.project_id ?? null);
  }

  protected save(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.saving.set(true);
    this.saveError.set(null);
    this.api.updateAgent(this.agentId(), toAgentUpdate(this.form.getRawValue())).subscribe({
      next: (agent) => {
        this.saving.set(false);
        this.agent.set(agent);
        this.shown(agent);
        this.notifier.done('Agent saved.');
      },
      error: (error: unknown) => {
        this.saving.set(false);
        this.saveError.set(apiErrorMessage(error));
      },
    });
  }

  protected assign(): void {
    const projectId = this.projectId();
    this.api.assignAgent(this.agentId(), projectId).subscribe({
      next: (agent) => {
        this.agent.set(agent);
        this.projectId.set(agent.project_id ?? null);
        const project = this.projects.value()?.find((p) => p.id === agent.project_id);
        this.notifier.done(project ? `${agent.name} now works on ${project.name}.` : `${agent.name} has no project now.`);
      },
      error: (error: unknown) => this.notifier.failed(error, 'The assignment did not change'),
    });
  }

  protected delete(agent: Agent): void {
    confirmAction(this.dialog, {
      title: `Delete ${agent.name}?`,
      message: 'Messages it wrote stay, with its name and role. This cannot be undone.',
      confirm: 'Delete agent',
    }).subscribe((confirmed) => {
      if (!confirmed) {
        return;
      }
      this.api.deleteAgent(agent.agent_id).subscribe({
        next: () => {
          this.notifier.done(`Agent ${agent.name} deleted.`);
          void this.router.navigate(['/agents']);
        },
        error: (error: unknown) => this.notifier.failed(error, 'The agent was not deleted'),
      });
    });
  }
}
