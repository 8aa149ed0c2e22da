import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';

import { ApiClient } from '../../../core/api/api-client';
import { apiErrorMessage } from '../../../core/api/api-error';
import { Decision, Variant, Vote } from '../../../core/api/models';
import { HumanizePipe } from '../../../core/ui/pipes';

/** A decision: the problem, the variants with their votes, the choice and why; Approve / Override when a person must
 * answer before the run goes on. */
@Component({
  selector: 'app-decision-card',
  imports: [DatePipe, FormsModule, MatButtonModule, MatFormFieldModule, MatIconModule, MatInputModule, MatSelectModule, HumanizePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <article class="decision" [class.awaiting]="awaiting()" [attr.data-testid]="'decision-' + decision().decision_id" data-kind="decision">
      <header>
        <mat-icon>how_to_vote</mat-icon>
        <strong>{{ decision().problem }}</strong>
        <span class="grow"></span>
        <span class="muted small">{{ decision().created_at | date: 'medium' }}</span>
      </header>
      @if (decision().description) {
        <p class="muted">{{ decision().description }}</p>
      }
      <ul class="variants">
        @for (variant of variants(); track variant.id) {
          <li [class.chosen]="variant.id === decision().chosen_variant_id" [attr.data-testid]="'variant-' + variant.id">
            <div class="variant-head">
              <strong>{{ variant.id }}. {{ variant.title }}</strong>
              @if (variant.id === decision().chosen_variant_id) {
                <span class="chosen-label">chosen</span>
              }
              @if (decision().uncontested) {
                <span class="muted" data-testid="decision-uncontested">uncontested: the only option, not put to a vote</span>
              } @else {
                <span class="muted">{{ count(variant.id) }} vote(s)</span>
              }
            </div>
            @if (variant.description) {
              <div class="muted">{{ variant.description }}</div>
            }
          </li>
        }
      </ul>
      @if (votes().length) {
        <h4>Votes</h4>
        <ul class="votes" data-testid="decision-votes">
          @for (vote of votes(); track $index) {
            <li>
              <strong>{{ vote.agent_name }}</strong>&nbsp;<span class="muted">({{ vote.agent_role | humanize }})</span> →
              {{ vote.variant_id }}{{ vote.reason ? ': ' + vote.reason : '' }}
            </li>
          }
        </ul>
      }
      @if (decision().justification) {
        <h4>Justification</h4>
        <p class="justification" data-testid="decision-justification">{{ decision().justification }}</p>
      }
      @if (awaiting()) {
        <section class="approval" data-testid="decision-approval">
          <p><mat-icon inline>pending_actions</mat-icon> The run waits for your answer to this decision.</p>
          <mat-form-field class="full-width">
            <mat-label>Comment (optional)</mat-label>
            <textarea matInput rows="2" [ngModel]="comment()" (ngModelChange)="comment.set($event)" data-testid="approval-comment"></textarea>
          </mat-form-field>
          <div class="approval-actions">
            <button mat-flat-button type="button" (click)="answer('approve')" [disabled]="sending()" data-testid="approve-button">
              Approve {{ decision().chosen_variant_id }}
            </button>
            <mat-form-field class="override-select">
              <mat-label>Override with</mat-label>
              <mat-select [ngModel]="overrideWith()" (ngModelChange)="overrideWith.set($event)" data-testid="override-variant">
                @for (variant of otherVariants(); track variant.id) {
                  <mat-option [value]="variant.id">{{ variant.id }}. {{ variant.title }}</mat-option>
                }
              </mat-select>
            </mat-form-field>
            <button mat-stroked-button type="button" (click)="answer('override')" [disabled]="sending() || !overrideWith()" data-testid="override-button">
              Override
            </button>
          </div>
          @if (error(); as message) {
            <div class="error-box" role="alert"><mat-icon>error_outline</mat-icon><span data-testid="error-message">{{ message }}</span></div>
          }
        </section>
      }
    </article>
  `,
  styles: `
    .decision {
      border: 1px solid var(--mat-sys-outline-variant);
      border-radius: 8px;
      padding: 12px 16px;
      margin: 8px 0;
    }
    .decision.awaiting {
      border: 2px solid #c79200;
    }
    header {
      display: flex;
      gap: 8px;
      align-items: center;
    }
    .grow {
      flex: 1;
    }
    .small {
      font-size: 12px;
    }
    .variants {
      list-style: none;
      padding: 0;
    }
    .variants li {
      padding: 6px 8px;
      border-radius: 6px;
      margin: 4px 0;
    }
    .variants li.chosen {
      background: #d7f5dd;
    }
    .variant-head {
      display: flex;
      gap: 8px;
      align-items: center;
    }
    .chosen-label {
      font-size: 12px;
      color: #0b5d1e;
      font-weight: 500;
    }
    .votes {
      padding-left: 18px;
      margin: 4px 0;
    }
    .justification {
      white-space: pre-line;
    }
    h4 {
      margin: 8px 0 4px;
    }
    .approval-actions {
      display: flex;
      gap: 12px;
      align-items: center;
      flex-wrap: wrap;
    }
    .override-select {
      width: 260px;
    }
  `,
})
export class DecisionCard {
  private readonly api = inject(ApiClient);

  readonly decision = input.required<Decision>();
  readonly workflowId = input.required<string>();
  /** The run is paused on this decision. */
  readonly awaiting = input(false);
  /** Approved or overridden: the run goes on. */
  readonly answered = output<string>();

  protected readonly comment = signal('');
  protected readonly overrideWith = signal<string | null>(null);
  protected readonly sending = signal(false);
  protected readonly error = signal<string | null>(null);

  protected readonly variants = computed(() => (this.decision().variants ?? []) as Variant[]);
  protected readonly votes = computed(() => (this.decision().votes ?? []) as Vote[]);
  protected readonly otherVariants = computed(() =>
    this.variants().filter((v) => v.id !== this.decision().chosen_variant_id),
  );

  protected count(variantId: string): number {
    return this.votes().filter((v) => v.variant_id === variantId).length;
  }

  protected answer(action: 'approve' | 'override'): void {
    this.sending.set(true);
    this.error.set(null);
    this.api
      .approveDecision(this.workflowId(), this.decision().decision_id, {
        action,
        variant_id: action === 'override' ? this.overrideWith() : null,
        comment: this.comment().trim(),
      })
      .subscribe({
        next: () => {
          this.sending.set(false);
          this.answered.emit(action === 'approve' ? 'Approved: the run goes on.' : 'Overridden: the run goes on.');
        },
        error: (error: unknown) => {
          this.sending.set(false);
          this.error.set(apiErrorMessage(error));
        },
      });
  }
}
