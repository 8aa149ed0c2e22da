import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';

import { StepState, TestRound } from '../../core/api/models';
import { DurationPipe, HumanizePipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';
import { TestRuns } from './test-runs';

const ICONS: Record<string, string> = {
  pending: 'radio_button_unchecked',
  running: 'autorenew',
  waiting_for_approval: 'pending_actions',
  completed: 'check_circle',
  skipped: 'remove_circle_outline',
  failed: 'error',
  cancelled: 'cancel',
};

/** A run's steps in order: who, how long, what came out; test rounds on the steps that run tests. */
@Component({
  selector: 'app-step-list',
  imports: [DatePipe, MatButtonModule, MatIconModule, DurationPipe, HumanizePipe, StatusChip, TestRuns],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <ol class="steps" data-testid="step-list">
      @for (step of steps(); track step.name) {
        <li class="step" [class]="'step status-' + step.status" [attr.data-testid]="'step-' + step.name" [attr.data-status]="step.status">
          <mat-icon class="icon" [class.spin]="step.status === 'running'">{{ icon(step.status) }}</mat-icon>
          <div class="body">
            <div class="head">
              <strong>{{ step.title }}</strong>
              <span class="muted">{{ step.kind | humanize }}</span>
              <app-status-chip [status]="step.status" />
              @if (step.agent) {
                <span class="muted">· {{ step.agent }}</span>
              }
              @if (step.duration_ms) {
                <span class="muted">· {{ step.duration_ms | duration }}</span>
              }
              @if (step.prompt_tokens || step.completion_tokens) {
                <span class="muted">· {{ (step.prompt_tokens ?? 0) + (step.completion_tokens ?? 0) }} tokens in {{ step.turns }} turn(s)</span>
              }
              @if (step.started_at && step.status === 'running') {
                <span class="muted">· since {{ step.started_at | date: 'mediumTime' }}</span>
              }
            </div>
            @if (step.summary) {
              <p class="summary">{{ step.summary }}</p>
            }
            @if (step.error) {
              <div class="error-box" data-testid="step-error"><mat-icon>error_outline</mat-icon>{{ step.error }}</div>
            }
            @if (step.decision_id) {
              <button mat-button type="button" (click)="openDecision.emit(step.decision_id)">
                <mat-icon>how_to_vote</mat-icon> See the decision
              </button>
            }
            @if (step.artifacts?.length) {
              <div class="muted small">Files: {{ step.artifacts!.join(', ') }}</div>
            }
            @if (step.kind === 'test_run' || step.tests) {
              <app-test-runs [tally]="liveTally(step)" [rounds]="step.kind === 'test_run' ? testRounds() : []" />
            }
          </div>
        </li>
      } @empty {
        <li class="muted">The run has not laid out its steps yet.</li>
      }
    </ol>
  `,
  styles: `
    .steps {
      list-style: none;
      padding: 0;
      margin: 0;
    }
    .step {
      display: flex;
      gap: 12px;
      padding: 10px 0;
      border-bottom: 1px solid var(--mat-sys-outline-variant);
    }
    .body {
      flex: 1;
      min-width: 0;
    }
    .head {
      display: flex;
      gap: 8px;
      align-items: center;
      flex-wrap: wrap;
    }
    .summary {
      margin: 4px 0;
      white-space: pre-line;
    }
    .small {
      font-size: 12px;
    }
    .status-completed .icon { color: #1b7f35; }
    .status-running .icon { color: var(--mat-sys-primary); }
    .status-failed .icon, .status-cancelled .icon { color: var(--mat-sys-error); }
    .status-waiting_for_approval .icon { color: #8a6500; }
    .spin {
      animation: spin 1.5s linear infinite;
    }
    @keyframes spin {
      to { transform: rotate(360deg); }
    }
  `,
})
export class StepList {
  readonly steps = input.required<StepState[]>();
  /** Test rounds of the run (review messages with a `test_run` attachment, and live progress). */
  readonly testRounds = input<TestRound[]>([]);
  /** The latest live test round per step (from `workflow_progress_update` events with `tests`). */
  readonly liveTests = input<Record<string, TestRound>>({});
  readonly openDecision = output<string>();

  protected icon(status: string): string {
    return ICONS[status] ?? 'radio_button_unchecked';
  }

  /** The step's recorded tally, or the live round when that is newer. */
  protected liveTally(step: StepState) {
    const live = this.liveTests()[step.name];
    const recorded = step.tests ?? null;
    if (live && (!recorded || live.round >= recorded.round)) {
      return { ...recorded, status: live.status, round: live.round, passed: live.passed, total: live.total };
    }
    return recorded;
  }
}
