import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { FormBuilder, FormsModule, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { Router, RouterLink } from '@angular/router';
import { map } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { apiErrorMessage } from '../../core/api/api-error';
import { AgentTemplate, Health, Project } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LoadState } from '../../core/ui/load-state';
import { Notifier } from '../../core/ui/notifier';
import { HumanizePipe } from '../../core/ui/pipes';
import { AgentFields } from './agent-fields';
import { agentForm, fromTemplate, roleModels, toAgentCreate } from './agent-form';

/** A new agent from a role's template: pick the role, adjust the configuration, choose its project. */
@Component({
  selector: 'app-agent-create-page',
  imports: [
    FormsModule, ReactiveFormsModule, RouterLink, MatButtonModule, MatCardModule, MatFormFieldModule, MatIconModule,
    MatProgressBarModule, MatSelectModule, LoadState, HumanizePipe, AgentFields,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="page-header">
      <h1>New agent</h1>
      <span class="grow"></span>
      <a mat-button [routerLink]="backLink()">Cancel</a>
    </div>
    <app-load-state [loading]="templates.loading()" [error]="templates.error()" (retry)="templates.refresh()">
      <h3>1. Choose a role template</h3>
      <div class="cards" data-testid="agent-templates">
        @for (t of templates.value() ?? []; track t.role) {
          <mat-card
            appearance="outlined"
            class="template"
            [class.selected]="chosen()?.role === t.role"
            (click)="choose(t)"
            [attr.data-testid]="'agent-template-' + t.role"
          >
            <mat-card-header>
              <mat-card-title>{{ t.name }}</mat-card-title>
              <mat-card-subtitle>{{ t.role | humanize }} · temperature {{ t.temperature }} · {{ t.max_tokens }} tokens</mat-card-subtitle>
            </mat-card-header>
            <mat-card-content>
              <p>{{ t.description }}</p>
              <p class="muted small">{{ t.capabilities.join(', ') }}</p>
            </mat-card-content>
          </mat-card>
        }
      </div>
    </app-load-state>
    @if (chosen()) {
      <form [formGroup]="form" (ngSubmit)="create()" data-testid="agent-form">
        <h3>2. Configure it</h3>
        <app-agent-fields [form]="form" [roleModels]="modelMap()" [services]="services()" />
        <mat-form-field>
          <mat-label>Project</mat-label>
          <mat-select [ngModel]="projectId()" (ngModelChange)="projectId.set($event)" [ngModelOptions]="{ standalone: true }" data-testid="agent-project">
            <mat-option [value]="null">No project</mat-option>
            @for (p of projects.value() ?? []; track p.id) {
              <mat-option [value]="p.id">{{ p.name }}</mat-option>
            }
          </mat-select>
        </mat-form-field>
        @if (saveError(); as message) {
          <div class="error-box" role="alert">
            <mat-icon>error_outline</mat-icon><span class="pre" data-testid="error-message">{{ message }}</span>
          </div>
        }
        @if (saving()) {
          <mat-progress-bar mode="indeterminate" />
        }
        <div class="form-actions">
          <button mat-flat-button type="submit" [disabled]="saving()" data-testid="agent-create">Create agent</button>
          <a mat-button [routerLink]="backLink()">Cancel</a>
        </div>
      </form>
    }
  `,
  styles: `
    .template {
      cursor: pointer;
    }
    .template.selected {
      outline: 2px solid var(--mat-sys-primary);
    }
    .small {
      font-size: 12px;
    }
    .pre {
      white-space: pre-line;
    }
  `,
})
export class AgentCreatePage {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);
  private readonly notifier = inject(Notifier);

  /** `?role=` preselects a template, `?project=` the project (and where Cancel goes back to). */
  readonly role = input<string>();
  readonly project = input<string>();

  protected readonly form = agentForm(inject(FormBuilder));
  protected readonly templates = loadable<AgentTemplate[]>();
  protected readonly projects = loadable<Project[]>();
  /** The model services, for the model field's suggestions and hint. */
  protected readonly health = loadable<Health>();
  protected readonly modelMap = computed(() => roleModels(this.templates.value() ?? []));
  protected readonly services = computed(() => this.health.value()?.models ?? []);
  protected readonly chosen = signal<AgentTemplate | null>(null);
  protected readonly projectId = signal<string | null>(null);
  protected readonly saving = signal(false);
  protected readonly saveError = signal<string | null>(null);
  protected readonly backLink = computed(() => (this.project() ? ['/projects', this.project()] : ['/agents']));

  constructor() {
    this.templates.load(() =>
      this.api.agentTemplates().pipe(
        map((templates) => {
          const preset = templates.find((t) => t.role === this.role());
          if (preset) {
            this.choose(preset);
          }
          this.projectId.set(this.project() ?? null);
          return templates;
        }),
      ),
    );
    this.projects.load(() => this.api.projects({ limit: 500 }).pipe(map((page) => page.items)));
    this.health.load(() => this.api.health());
  }

  protected choose(template: AgentTemplate): void {
    this.chosen.set(template);
    this.form.reset(fromTemplate(template));
  }

  protected create(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.saving.set(true);
    this.saveError.set(null);
    this.api.createAgent(toAgentCreate(this.form.getRawValue(), this.projectId())).subscribe({
      next: (agent) => {
        this.saving.set(false);
        this.notifier.done(`Agent ${agent.name} created.`);
        void this.router.navigate(this.project() ? ['/projects', this.project()] : ['/agents', agent.agent_id]);
      },
      error: (error: unknown) => {
        this.saving.set(false);
        this.saveError.set(apiErrorMessage(error));
      },
    });
  }
}
