import { ChangeDetectionStrategy, Component, computed, effect, input, signal } from '@angular/core';
import { AbstractControl, ReactiveFormsModule } from '@angular/forms';
import { MatAutocompleteModule } from '@angular/material/autocomplete';
import { MatChipInputEvent, MatChipsModule } from '@angular/material/chips';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { Subscription, startWith } from 'rxjs';

import { AGENT_ROLES, AGENT_STATUSES, ModelService } from '../../core/api/models';
import { HumanizePipe } from '../../core/ui/pipes';
import { AgentForm, modelHint } from './agent-form';

/** A control's value as a signal (the form is reset from outside: a loaded agent, a chosen template). */
function follow<T>(control: AbstractControl<T>, into: { set(value: T): void }): Subscription {
  return control.valueChanges.pipe(startWith(control.value)).subscribe((value) => into.set(value));
}

/**
 * The configuration fields of an agent: name, role, status, model, temperature, max tokens, prompt, capabilities.
 * The model is free text, with the served models (`services`, from the health report) as suggestions, and a hint:
 * the model map's model for the role (`roleModels`, from the role templates) and what serves it.
 */
@Component({
  selector: 'app-agent-fields',
  imports: [
    ReactiveFormsModule, MatAutocompleteModule, MatChipsModule, MatFormFieldModule, MatIconModule, MatInputModule,
    MatSelectModule, HumanizePipe,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div [formGroup]="form()">
      <div class="form-grid">
        <mat-form-field>
          <mat-label>Name</mat-label>
          <input matInput formControlName="name" required data-testid="agent-name" />
          @if (form().controls.name.hasError('required')) {
            <mat-error>An agent needs a name.</mat-error>
          }
        </mat-form-field>
        <mat-form-field>
          <mat-label>Role</mat-label>
          <mat-select formControlName="role" data-testid="agent-role">
            @for (role of roles; track role) {
              <mat-option [value]="role">{{ role | humanize }}</mat-option>
            }
          </mat-select>
        </mat-form-field>
        <mat-form-field>
          <mat-label>Status</mat-label>
          <mat-select formControlName="status" data-testid="agent-status">
            @for (status of statuses; track status) {
              <mat-option [value]="status">{{ status | humanize }}</mat-option>
            }
          </mat-select>
        </mat-form-field>
        <mat-form-field subscriptSizing="dynamic">
          <mat-label>Model</mat-label>
          <input matInput formControlName="model" required [matAutocomplete]="served" data-testid="agent-model" />
          <mat-autocomplete #served="matAutocomplete">
            @for (name of suggestions(); track name) {
              <mat-option [value]="name">{{ name }}</mat-option>
            }
          </mat-autocomplete>
          @if (hint(); as text) {
            <mat-hint data-testid="agent-model-hint">{{ text }}</mat-hint>
          }
        </mat-form-field>
        <mat-form-field>
          <mat-label>Temperature</mat-label>
          <input matInput type="number" step="0.05" min="0" max="2" formControlName="temperature" data-testid="agent-temperature" />
          <mat-hint>0 (focused) to 2 (varied)</mat-hint>
          @if (form().controls.temperature.invalid) {
            <mat-error>Between 0 and 2.</mat-error>
          }
        </mat-form-field>
        <mat-form-field>
          <mat-label>Max tokens</mat-label>
          <input matInput type="number" min="1" max="32768" formControlName="max_tokens" data-testid="agent-max-tokens" />
          <mat-hint>Most tokens in one turn</mat-hint>
          @if (form().controls.max_tokens.invalid) {
            <mat-error>Between 1 and 32768.</mat-error>
          }
        </mat-form-field>
      </div>
      <mat-form-field class="full-width">
        <mat-label>Description</mat-label>
        <input matInput formControlName="description" data-testid="agent-description" />
      </mat-form-field>
      <mat-form-field class="full-width">
        <mat-label>Capabilities</mat-label>
        <mat-chip-grid #chips data-testid="agent-capabilities">
          @for (capability of capabilities(); track capability) {
            <mat-chip-row (removed)="removeCapability(capability)">
              {{ capability }}
              <button matChipRemove type="button" [attr.aria-label]="'Remove ' + capability">
                <mat-icon>cancel</mat-icon>
              </button>
            </mat-chip-row>
          }
          <input
            placeholder="Add a capability…"
            [matChipInputFor]="chips"
            (matChipInputTokenEnd)="addCapability($event)"
            data-testid="agent-capability-input"
          />
        </mat-chip-grid>
      </mat-form-field>
      <mat-form-field class="full-width">
        <mat-label>System prompt</mat-label>
        <textarea matInput formControlName="system_prompt" rows="10" class="mono" data-testid="agent-system-prompt"></textarea>
      </mat-form-field>
    </div>
  `,
  styles: `
    /* The model's hint can take a few lines: the fields beside it keep their height. */
    .form-grid {
      align-items: start;
    }
  `,
})
export class AgentFields {
  readonly form = input.required<AgentForm>();
  /** The model map: role -> the model of its new agents. */
  readonly roleModels = input<Record<string, string>>({});
  /** The model services of the health report. */
  readonly services = input<readonly ModelService[]>([]);
  protected readonly roles = AGENT_ROLES;
  protected readonly statuses = AGENT_STATUSES;
  protected readonly capabilities = signal<string[]>([]);
  protected readonly role = signal<string>('');
  protected readonly model = signal<string>('');

  /** The served models: all of them, or those with the typed text in their name while it names none. */
  protected readonly suggestions = computed(() => {
    const names = [...new Set(this.services().map((s) => s.model))];
    const typed = this.model().trim().toLowerCase();
    if (!typed || names.some((name) => name.toLowerCase() === typed)) {
      return names;
    }
    return names.filter((name) => name.toLowerCase().includes(typed));
  });
  protected readonly hint = computed(() => modelHint(this.role(), this.model(), this.roleModels(), this.services()));

  constructor() {
    effect((onCleanup) => {
      const { capabilities, role, model } = this.form().controls;
      const subscriptions = [
        follow(capabilities, this.capabilities), follow(role, this.role), follow(model, this.model),
      ];
      onCleanup(() => subscriptions.forEach((subscription) => subscription.unsubscribe()));
    });
  }

  protected addCapability(event: MatChipInputEvent): void {
    const value = event.value.trim();
    const control = this.form().controls.capabilities;
    if (value && !control.value.includes(value)) {
      control.setValue([...control.value, value]);
      control.markAsDirty();
    }
    event.chipInput.clear();
  }

  protected removeCapability(capability: string): void {
    const control = this.form().controls.capabilities;
    control.setValue(control.value.filter((c) => c !== capability));
    control.markAsDirty();
  }
}
