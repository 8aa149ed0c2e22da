import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';

/** Loading, error and empty states around a piece of content; the content shows once there is something to show. */
@Component({
  selector: 'app-load-state',
  imports: [MatButtonModule, MatIconModule, MatProgressBarModule],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (loading()) {
      <mat-progress-bar mode="indeterminate" data-testid="loading" />
    }
    @if (error(); as message) {
      <div class="error-box" role="alert">
        <mat-icon>error_outline</mat-icon>
        <span class="message" data-testid="error-message">{{ message }}</span>
        <button mat-button type="button" (click)="retry.emit()" data-testid="retry-button">Retry</button>
      </div>
    } @else if (empty() && !loading()) {
      <p class="empty" data-testid="empty-state">{{ emptyText() }}</p>
    }
    @if (!empty()) {
      <ng-content />
    }
  `,
  styles: `
    .empty {
      color: var(--mat-sys-on-surface-variant);
      padding: 16px 0;
    }
    .message {
      white-space: pre-line;
      flex: 1;
    }
  `,
})
export class LoadState {
  readonly loading = input(false);
  readonly error = input<string | null>(null);
  readonly empty = input(false);
  readonly emptyText = input('Nothing here yet.');
  readonly retry = output<void>();
}
