import { ChangeDetectionStrategy, Component, computed, input, model } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatSelectModule } from '@angular/material/select';

import { humanize } from './labels';

export interface FilterOption {
  value: string;
  label: string;
}

/** A list page's filter: "Any" (null) or one of the options; plain strings (an enum's values) are humanized. */
@Component({
  selector: 'app-filter-select',
  imports: [FormsModule, MatFormFieldModule, MatSelectModule],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <mat-form-field>
      <mat-label>{{ label() }}</mat-label>
      <mat-select [ngModel]="value()" (ngModelChange)="value.set($event)" [attr.data-testid]="testId()">
        <mat-option [value]="null">Any</mat-option>
        @for (option of choices(); track option.value) {
          <mat-option [value]="option.value">{{ option.label }}</mat-option>
        }
      </mat-select>
    </mat-form-field>
  `,
})
export class FilterSelect {
  readonly label = input.required<string>();
  readonly options = input.required<readonly (string | FilterOption)[]>();
  readonly testId = input<string | null>(null);
  readonly value = model<string | null>(null);

  protected readonly choices = computed(() =>
    this.options().map((o) => (typeof o === 'string' ? { value: o, label: humanize(o) } : o)),
  );
}
