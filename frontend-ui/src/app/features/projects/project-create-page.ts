import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { FormBuilder, FormsModule, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatStepperModule } from '@angular/material/stepper';
import { Router, RouterLink } from '@angular/router';
import { Observable, catchError, forkJoin, map, of, switchMap } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { apiErrorMessage } from '../../core/api/api-error';
import { Agent, AgentTemplate, Page, ProjectSaved } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LoadState } from '../../core/ui/load-state';
import { Notifier } from '../../core/ui/notifier';
import { HumanizePipe } from '../../core/ui/pipes';
import { ProjectFields } from './project-fields';
import { projectForm, toProjectCreate } from './project-form';

/** The roles a feature-development run needs: checked by default, so a new project can start one right away. */
const DEFAULT_ROLES = ['product_owner', 'architect', 'developer', 'tester', 'reviewer'];

interface NewAgent {
  template: AgentTemplate;
  selected: boolean;
  name: string;
}

/** The project wizard: basics → repository → Jira/Confluence → agents. */
@Component({
  selector: 'app-project-create-page',
  imports: [
    FormsModule, ReactiveFormsModule, RouterLink, MatButtonModule, MatCheckboxModule, MatFormFieldModule,
    MatIconModule, MatInputModule, MatProgressBarModule, MatStepperModule, LoadState, HumanizePipe, ProjectFields,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="page-header">
      <h1>New project</h1>
      <span class="grow"></span>
      <a mat-button routerLink="/projects">Cancel</a>
    </div>
    <mat-stepper linear #stepper data-testid="project-wizard">
      <mat-step [stepControl]="form.controls.basics" label="Basics">
        <app-project-fields [form]="form" section="basics" />
        <div class="form-actions">
          <button mat-flat-button matStepperNext type="button" data-testid="wizard-next-basics">Next</button>
        </div>
      </mat-step>
      <mat-step [stepControl]="form.controls.repository" label="Repository">
        <p class="muted">Where the project's code lives (optional).</p>
        <app-project-fields [form]="form" section="repository" />
        <div class="form-actions">
          <button mat-button matStepperPrevious type="button">Back</button>
          <button mat-flat-button matStepperNext type="button" data-testid="wizard-next-repository">Next</button>
        </div>
      </mat-step>
      <mat-step [stepControl]="form.controls.integrations" label="Jira & Confluence">
        <p class="muted">Mirror each run into Jira and Confluence (optional; needs JIRA_URL / CONFLUENCE_URL on the server).</p>
        <app-project-fields [form]="form" section="integrations" />
        <div class="form-actions">
          <button mat-button matStepperPrevious type="button">Back</button>
          <button mat-flat-button matStepperNext type="button" data-testid="wizard-next-integrations">Next</button>
        </div>
      </mat-step>
      <mat-step label="Agents">
        <p class="muted">
          Staff the project: new agents from role templates, and agents that belong to no project yet. You can change
          the team later.
        </p>
        <app-load-state
          [loading]="templates.loading()"
          [error]="templates.error()"
          (retry)="templates.refresh()"
        >
          <h3>New agents from role templates</h3>
          <div class="agent-grid" data-testid="wizard-agent-templates">
            @for (agent of newAgents(); track agent.template.role) {
              <div class="agent-row">
                <mat-checkbox
                  [checked]="agent.selected"
                  (change)="toggleNew(agent, $event.checked)"
                  [attr.data-testid]="'wizard-role-' + agent.template.role"
                >
                  {{ agent.template.role | humanize }}
                </mat-checkbox>
                <mat-form-field>
                  <mat-label>Name</mat-label>
                  <input
                    matInput
                    [ngModel]="agent.name"
                    (ngModelChange)="rename(agent, $event)"
                    [disabled]="!agent.selected"
                    [attr.data-testid]="'wizard-role-name-' + agent.template.role"
                  />
                </mat-form-field>
              </div>
            }
          </div>
        </app-load-state>
        <h3>Existing agents without a project</h3>
        <app-load-state
          [loading]="unassigned.loading()"
          [error]="unassigned.error()"
          [empty]="unassigned.loaded() && !unassigned.value()?.length"
          emptyText="Every agent belongs to a project already."
          (retry)="unassigned.refresh()"
        >
          <div class="existing" data-testid="wizard-existing-agents">
            @for (agent of unassigned.value() ?? []; track agent.agent_id) {
              <mat-checkbox
                [checked]="chosenExisting().has(agent.agent_id)"
                (change)="toggleExisting(agent.agent_id, $event.checked)"
              >
                {{ agent.name }} <span class="muted">({{ agent.role | humanize }})</span>
              </mat-checkbox>
            }
          </div>
        </app-load-state>
        @if (saveError(); as message) {
          <div class="error-box" role="alert">
            <mat-icon>error_outline</mat-icon><span class="pre" data-testid="error-message">{{ message }}</span>
          </div>
        }
        @if (saving()) {
          <mat-progress-bar mode="indeterminate" />
        }
        <div class="form-actions">
          <button mat-button matStepperPrevious type="button">Back</button>
          <button
            mat-flat-button
            type="button"
            (click)="create()"
            [disabled]="saving() || form.invalid"
            data-testid="wizard-create"
          >
            Create project
          </button>
          <span class="muted">{{ summary() }}</span>
        </div>
        @if (form.invalid) {
          <p class="field-error" data-testid="wizard-invalid">Go back and complete the steps marked in red first.</p>
        }
      </mat-step>
    </mat-stepper>
  `,
  styles: `
    .agent-grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(380px, 1fr));
      gap: 4px 24px;
    }
    .agent-row {
      display: flex;
      align-items: center;
      gap: 12px;
    }
    .agent-row mat-checkbox {
      width: 150px;
    }
    .existing {
      display: flex;
      flex-direction: column;
    }
    .pre {
      white-space: pre-line;
    }
    .field-error {
      color: var(--mat-sys-error);
    }
  `,
})
export class ProjectCreatePage {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);
  private readonly notifier = inject(Notifier);

  protected readonly form = projectForm(inject(FormBuilder));
  protected readonly templates = loadable<AgentTemplate[]>();
  protected readonly unassigned = loadable<Agent[]>();
  protected readonly newAgents = signal<NewAgent[]>([]);
  protected readonly chosenExisting = signal<Set<string>>(new Set());
  protected readonly saving = signal(false);
  protected readonly saveError = signal<string | null>(null);
  protected readonly summary = computed(() => {
    const created = this.newAgents().filter((a) => a.selected).length;
    const assigned = this.chosenExisting().size;
    return `${created} new agent(s), ${assigned} existing agent(s)`;
  });

  constructor() {
    this.templates.load(() =>
      this.api.agentTemplates().pipe(
        map((templates) => {
          this.newAgents.set(
            templates.map((template) => ({
              template,
              selected: DEFAULT_ROLES.includes(template.role),
              name: template.name,
            })),
          );
          return templates;
        }),
      ),
    );
    this.unassigned.load(() =>
      this.api.agents({ limit: 500 }).pipe(map((page: Page<Agent>) => page.items.filter((a) => !a.project_id))),
    );
  }

  protected toggleNew(agent: NewAgent, selected: boolean): void {
    this.newAgents.update((all) => all.map((a) => (a === agent ? { ...a, selected } : a)));
  }

  protected rename(agent: NewAgent, name: string): void {
    this.newAgents.update((all) => all.map((a) => (a.template.role === agent.template.role ? { ...a, name } : a)));
  }

  protected toggleExisting(agentId: string, selected: boolean): void {
    this.chosenExisting.update((ids) => {
      const next = new Set(ids);
      if (selected) {
        next.add(agentId);
      } else {
        next.delete(agentId);
      }
      return next;
    });
  }

  /** Creates the project, then its agents; a failed agent is reported, the project stays. */
  protected create(): void {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.saving.set(true);
    this.saveError.set(null);
    this.api
      .createProject(toProjectCreate(this.form.getRawValue()))
      .pipe(switchMap((project) => this.staff(project).pipe(map((problems) => ({ project, problems })))))
      .subscribe({
        next: ({ project, problems }) => {
          this.saving.set(false);
          const notes = [...(project.warnings ?? []), ...problems];
          this.notifier.done(
            notes.length ? `Project ${project.name} created. ${notes.join(' ')}` : `Project ${project.name} created.`,
          );
          void this.router.navigate(['/projects', project.id]);
        },
        error: (error: unknown) => {
          this.saving.set(false);
          this.saveError.set(apiErrorMessage(error));
        },
      });
  }

  /** The agents asked for in the last step; each failure as a sentence. */
  private staff(project: ProjectSaved): Observable<string[]> {
    const requests: Observable<string | null>[] = [
      ...this.newAgents()
        .filter((a) => a.selected)
        .map((a) =>
          this.api
            .createAgent({ name: a.name.trim() || a.template.name, role: a.template.role, project_id: project.id })
            .pipe(
              map(() => null),
              catchError((error: unknown) => of(`Agent ${a.name} was not created: ${apiErrorMessage(error)}.`)),
            ),
        ),
      ...[...this.chosenExisting()].map((agentId) =>
        this.api.assignAgent(agentId, project.id).pipe(
          map(() => null),
          catchError((error: unknown) => of(`An agent was not assigned: ${apiErrorMessage(error)}.`)),
        ),
      ),
    ];
    if (!requests.length) {
      return of([]);
    }
    return forkJoin(requests).pipe(map((results) => results.filter((r): r is string => r !== null)));
  }
}
