import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { ReactiveFormsModule } from '@angular/forms';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSlideToggleModule } from '@angular/material/slide-toggle';

import { PROJECT_STATUSES, PROJECT_TYPES } from '../../core/api/models';
import { HumanizePipe } from '../../core/ui/pipes';
import { ProjectForm } from './project-form';

/** The fields of one group of the project form (basics, repository or integrations). */
@Component({
  selector: 'app-project-fields',
  imports: [ReactiveFormsModule, MatFormFieldModule, MatInputModule, MatSelectModule, MatSlideToggleModule, HumanizePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @switch (section()) {
      @case ('basics') {
        <div class="form-grid" [formGroup]="basics()">
          <mat-form-field>
            <mat-label>Name</mat-label>
            <input matInput formControlName="name" required data-testid="project-name" />
            @if (basics().controls.name.hasError('required')) {
              <mat-error>A project needs a name.</mat-error>
            }
          </mat-form-field>
          <mat-form-field>
            <mat-label>Type</mat-label>
            <mat-select formControlName="type" data-testid="project-type">
              @for (type of types; track type) {
                <mat-option [value]="type">{{ type | humanize }}</mat-option>
              }
            </mat-select>
          </mat-form-field>
          <mat-form-field>
            <mat-label>Status</mat-label>
            <mat-select formControlName="status" data-testid="project-status">
              @for (status of statuses; track status) {
                <mat-option [value]="status">{{ status | humanize }}</mat-option>
              }
            </mat-select>
          </mat-form-field>
        </div>
        <mat-form-field class="full-width" [formGroup]="basics()">
          <mat-label>Description</mat-label>
          <textarea matInput formControlName="description" rows="3" data-testid="project-description"></textarea>
        </mat-form-field>
      }
      @case ('repository') {
        <div class="form-grid" [formGroup]="repository()">
          <mat-form-field>
            <mat-label>Repository URL</mat-label>
            <input
              matInput
              formControlName="repository_url"
              placeholder="https://git.example.com/team/app.git"
              data-testid="project-repository-url"
            />
          </mat-form-field>
          <mat-form-field>
            <mat-label>Branch</mat-label>
            <input matInput formControlName="repository_branch" placeholder="main" data-testid="project-branch" />
          </mat-form-field>
        </div>
      }
      @case ('integrations') {
        <div [formGroup]="integrations()">
          <div class="integration">
            <mat-slide-toggle formControlName="jira_enabled" data-testid="project-jira-enabled">
              Mirror runs into Jira (epic, stories, comments)
            </mat-slide-toggle>
            <mat-form-field>
              <mat-label>Jira project key</mat-label>
              <input matInput formControlName="jira_project_key" placeholder="CONC" data-testid="project-jira-key" />
              @if (integrations().controls.jira_project_key.hasError('pattern')) {
                <mat-error>Capital letters, digits and _, starting with a letter (e.g. CONC).</mat-error>
              }
            </mat-form-field>
            @if (integrations().hasError('jira_project_key_required')) {
              <p class="field-error">Jira needs a project key when it is turned on.</p>
            }
          </div>
          <div class="integration">
            <mat-slide-toggle formControlName="confluence_enabled" data-testid="project-confluence-enabled">
              Write a Confluence page for each run
            </mat-slide-toggle>
            <mat-form-field>
              <mat-label>Confluence space key</mat-label>
              <input
                matInput
                formControlName="confluence_space_key"
                placeholder="DOCS"
                data-testid="project-confluence-key"
              />
              @if (integrations().controls.confluence_space_key.hasError('pattern')) {
                <mat-error>Letters, digits and _ (a personal space starts with ~).</mat-error>
              }
            </mat-form-field>
            @if (integrations().hasError('confluence_space_key_required')) {
              <p class="field-error">Confluence needs a space key when it is turned on.</p>
            }
          </div>
        </div>
      }
    }
  `,
  styles: `
    .integration {
      display: flex;
      align-items: center;
      gap: 16px;
      flex-wrap: wrap;
      margin: 8px 0;
    }
    .integration mat-slide-toggle {
      min-width: 360px;
    }
    .field-error {
      color: var(--mat-sys-error);
      font-size: 12px;
      margin: 0;
    }
  `,
})
export class ProjectFields {
  readonly form = input.required<ProjectForm>();
  readonly section = input.required<'basics' | 'repository' | 'integrations'>();
  protected readonly types = PROJECT_TYPES;
  protected readonly statuses = PROJECT_STATUSES;

  protected basics() {
    return this.form().controls.basics;
  }

  protected repository() {
    return this.form().controls.repository;
  }

  protected integrations() {
    return this.form().controls.integrations;
  }
}
