import { ChangeDetectionStrategy, Component, input, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';

import { TestRound, TestTally } from '../../core/api/models';
import { DurationPipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';

/** The test rounds of a step in the sandbox: counts per round, and each round's failures and output on demand. */
@Component({
  selector: 'app-test-runs',
  imports: [MatButtonModule, MatIconModule, DurationPipe, StatusChip],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="tests" data-testid="test-runs">
      @if (tally(); as t) {
        <div class="tally" data-testid="test-tally">
          <strong>Tests:</strong>
          <app-status-chip [status]="t.status" />
          <span>{{ t.passed }} / {{ t.total }} passed after round {{ t.round }}</span>
          @if (t.ruled_out) {
            <span class="muted">· {{ t.ruled_out }} ruled out</span>
          }
          @if (t.candidates) {
            <span class="muted">· {{ t.candidates }} candidate(s)</span>
          }
          @if (t.reason) {
            <span class="muted">· {{ t.reason }}</span>
          }
        </div>
      }
      @if (rounds().length) {
        <table class="rounds">
          <thead>
            <tr><th>Round</th><th>Candidate</th><th>Result</th><th>Passed</th><th>Failed</th><th>Errors</th><th></th></tr>
          </thead>
          <tbody>
            @for (r of rounds(); track r.round + '-' + r.candidate) {
              <tr [attr.data-testid]="'test-round-' + r.round + '-' + r.candidate">
                <td>{{ r.round }}</td>
                <td>{{ r.candidate }}</td>
                <td><app-status-chip [status]="r.status" /></td>
                <td>{{ r.passed }} / {{ r.total }}</td>
                <td>{{ r.failed }}</td>
                <td>{{ r.errors }}</td>
                <td>
                  @if (r.result) {
                    <button mat-button type="button" (click)="toggle(r)">{{ isOpen(r) ? 'Hide' : 'Details' }}</button>
                  }
                </td>
              </tr>
              @if (isOpen(r) && r.result; as result) {
                <tr class="details">
                  <td colspan="7">
                    @if (r.reason) {
                      <p class="muted">{{ r.reason }}</p>
                    }
                    @for (test of failures(r); track test.name) {
                      <div class="failure">
                        <span class="mono">{{ test.name }}</span>&nbsp;<app-status-chip [status]="test.outcome" />
                        @if (test.message) {
                          <pre class="text">{{ test.message }}</pre>
                        }
                      </div>
                    }
                    @if (result.output) {
                      <details>
                        <summary>pytest output ({{ result.duration_ms | duration }})</summary>
                        <pre class="text">{{ result.output }}</pre>
                      </details>
                    }
                  </td>
                </tr>
              }
            }
          </tbody>
        </table>
      }
    </div>
  `,
  styles: `
    .tally {
      display: flex;
      gap: 8px;
      align-items: center;
      flex-wrap: wrap;
      margin: 4px 0;
    }
    .rounds {
      border-collapse: collapse;
      font-size: 13px;
      margin-top: 4px;
    }
    .rounds th,
    .rounds td {
      text-align: left;
      padding: 2px 12px 2px 0;
    }
    .failure {
      margin: 6px 0;
    }
  `,
})
export class TestRuns {
  readonly tally = input<TestTally | null | undefined>(null);
  readonly rounds = input<TestRound[]>([]);
  private readonly open = signal<Set<string>>(new Set());

  private key(round: TestRound): string {
    return `${round.round}-${round.candidate}`;
  }

  protected isOpen(round: TestRound): boolean {
    return this.open().has(this.key(round));
  }

  protected toggle(round: TestRound): void {
    const key = this.key(round);
    this.open.update((keys) => {
      const next = new Set(keys);
      if (next.has(key)) {
        next.delete(key);
      } else {
        next.add(key);
      }
      return next;
    });
  }

  protected failures(round: TestRound) {
    return (round.result?.tests ?? []).filter((t) => t.outcome !== 'passed');
  }
}
