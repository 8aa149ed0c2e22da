import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormBuilder, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatChipInputEvent, MatChipsModule } from '@angular/material/chips';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { Router, RouterLink } from '@angular/router';
import { map, startWith } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { apiErrorMessage } from '../../core/api/api-error';
import { Agent, Page, Project, WORKFLOW_PRIORITIES, WorkflowTemplate } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LoadState } from '../../core/ui/load-state';
import { Notifier } from '../../core/ui/notifier';
import { humanize } from '../../core/ui/labels';
import { HumanizePipe } from '../../core/ui/pipes';
import { decisionSteps, templateOptions, toWorkflowCreate, workflowForm } from './workflow-form';

/** A new run from a template: type, project, requirement, priority, tags, approvals and the template's options. */
@Component({
  selector: 'app-workflow-create-page',
  imports: [
    ReactiveFormsModule, RouterLink, MatButtonModule, MatCardModule, MatChipsModule, MatFormFieldModule,
    MatIconModule, MatInputModule, MatProgressBarModule, MatSelectModule, LoadState, HumanizePipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './workflow-create-page.html',
  styles: `
    .template {
      cursor: pointer;
    }
    .template.selected {
      outline: 2px solid var(--mat-sys-primary);
    }
    .steps {
      margin: 4px 0 0;
      padding-left: 18px;
      font-size: 12px;
    }
    .small {
      font-size: 12px;
    }
    .pre {
      white-space: pre-line;
    }
    section {
      margin-top: 16px;
    }
  `,
})
export class WorkflowCreatePage {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);
  private readonly notifier = inject(Notifier);

  /** `?project=` and `?type=` preselect. */
  readonly project = input<string>();
  readonly type = input<string>();

  protected readonly form = workflowForm(inject(FormBuilder));
  protected readonly priorities = WORKFLOW_PRIORITIES;
  protected readonly templates = loadable<WorkflowTemplate[]>();
  protected readonly projects = loadable<Project[]>();
  protected readonly team = loadable<Page<Agent>>();
  protected readonly saving = signal(false);
  protected readonly saveError = signal<string | null>(null);

  protected readonly value = toSignal(this.form.valueChanges.pipe(startWith(this.form.value), map(() => this.form.getRawValue())), {
    requireSync: true,
  });
  protected readonly template = computed(() =>
    (this.templates.value() ?? []).find((t) => t.workflow_type === this.value().workflow_type),
  );
  /** Changes only when another project is chosen (not with every keystroke in the form). */
  private readonly projectId = computed(() => this.value().project_id);
  protected readonly takes = computed(() => templateOptions(this.template()));
  protected readonly decisions = computed(() => decisionSteps(this.template()));
  protected readonly tags = computed(() => this.value().tags);
  /** Roles the template needs that the team (chosen agents, else the project's) lacks: the API would refuse. */
  protected readonly missingRoles = computed(() => {
    const template = this.template();
    const agents = this.team.value()?.items;
    if (!template || !agents || !this.value().project_id) {
      return [];
    }
    const chosen = this.value().assigned_agents;
    const members = chosen.length ? agents.filter((a) => chosen.includes(a.agent_id)) : agents;
    const roles = new Set(members.map((a) => a.role));
    return template.required_roles.filter((role) => !roles.has(role));
  });

  constructor() {
    this.templates.load(() => this.api.workflowTemplates());
    this.projects.load(() => this.api.projects({ limit: 500 }).pipe(map((page) => page.items)));
    effect(() => {
      const project = this.project();
      const type = this.type();
      untracked(() => {
        if (project) {
          this.form.controls.project_id.setValue(project);
        }
        if (type) {
          this.form.controls.workflow_type.setValue(type as never);
        }
      });
    });
    // The chosen project's agents: for the team check and the optional hand-picked team.
    effect(() => {
      const projectId = this.projectId();
      untracked(() => {
        this.form.controls.assigned_agents.setValue([], { emitEvent: false });
        if (projectId) {
          this.team.load(() => this.api.projectAgents(projectId, { limit: 500 }));
        }
      });
    });
  }

  protected roleList(roles: string[]): string {
    return roles.map((role) => humanize(role).toLowerCase()).join(', ');
  }

  protected inputDescription(name: string): string {
    return this.template()?.inputs.find((i) => i.name === name)?.description ?? '';
  }

  protected choose(template: WorkflowTemplate): void {
    this.form.controls.workflow_type.setValue(template.workflow_type as never);
    this.form.controls.approval_decisions.setValue([]);
  }

  protected addTag(event: MatChipInputEvent): void {
    const tag = event.value.trim();
    const control = this.form.controls.tags;
    if (tag && !control.value.includes(tag)) {
      control.setValue([...control.value, tag]);
    }
    event.chipInput.clear();
  }

  protected removeTag(tag: string): void {
    const control = this.form.controls.tags;
    control.setValue(control.value.filter((t) => t !== tag));
  }

  protected create(): void {
    const template = this.template();
    if (this.form.invalid || !template) {
      this.form.markAllAsTouched();
      return;
    }
    this.saving.set(true);
    this.saveError.set(null);
    this.api.createWorkflow(toWorkflowCreate(this.form.getRawValue(), template)).subscribe({
      next: (workflow) => {
        this.saving.set(false);
        this.notifier.done(`Workflow ${workflow.name} started.`);
        void this.router.navigate(['/workflows', workflow.workflow_id]);
      },
      error: (error: unknown) => {
        this.saving.set(false);
        this.saveError.set(apiErrorMessage(error));
      },
    });
  }
}
