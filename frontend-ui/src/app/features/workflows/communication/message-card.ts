import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, input, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';

import { Message, ThreadMessage } from '../../../core/api/models';
import { HumanizePipe } from '../../../core/ui/pipes';

/** Long messages show their start until expanded. */
const FOLDED_CHARS = 1200;

/** One message, and (in a thread) its replies nested under it. */
@Component({
  selector: 'app-message-card',
  imports: [DatePipe, MatButtonModule, MatIconModule, HumanizePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <article class="message" [class.human]="message().message_type === 'human'" [attr.data-testid]="'message-' + message().message_id" data-kind="message">
      <header>
        <strong>{{ message().agent_name }}</strong>
        <span class="muted">{{ message().agent_role | humanize }}</span>
        <span class="type" [attr.data-type]="message().message_type">{{ message().message_type | humanize }}</span>
        @if (message().addressed_to_names?.length) {
          <span class="muted">→ {{ message().addressed_to_names!.join(', ') }}</span>
        }
        @if (message().urgency && message().urgency !== 'medium') {
          <span class="urgency">{{ message().urgency }} urgency</span>
        }
        @if (message().requires_response) {
          <span class="muted">· asks for an answer</span>
        }
        <span class="grow"></span>
        <span class="muted small">{{ message().created_at | date: 'mediumTime' }}</span>
        @if (tokens()) {
          <span class="muted small">· {{ tokens() }} tokens{{ message().latency_ms ? ', ' + (message().latency_ms! / 1000).toFixed(1) + ' s' : '' }}</span>
        }
        @if (replyable()) {
          <button mat-icon-button type="button" (click)="reply.emit(message())" aria-label="Reply" [attr.data-testid]="'reply-' + message().message_id">
            <mat-icon>reply</mat-icon>
          </button>
        }
      </header>
      <div class="content">{{ shownContent() }}</div>
      @if (long()) {
        <button mat-button type="button" (click)="expanded.set(!expanded())">{{ expanded() ? 'Show less' : 'Show all' }}</button>
      }
      @for (attachment of testRuns(); track $index) {
        <div class="attachment muted small" data-testid="message-test-run">
          Test round {{ attachment['round'] }}: {{ attachment['passed'] }} / {{ attachment['total'] }} passed ({{ attachment['status'] }})
        </div>
      }
    </article>
    @if (replies().length) {
      <div class="replies">
        @for (child of replies(); track child.message_id) {
          <app-message-card [message]="child" [replyable]="replyable()" (reply)="reply.emit($event)" />
        }
      </div>
    }
  `,
  styles: `
    .message {
      border: 1px solid var(--mat-sys-outline-variant);
      border-radius: 8px;
      padding: 8px 12px;
      margin: 6px 0;
      background: var(--mat-sys-surface-container-lowest);
    }
    .message.human {
      background: #eef4ff;
    }
    header {
      display: flex;
      gap: 8px;
      align-items: center;
      flex-wrap: wrap;
    }
    .grow {
      flex: 1;
    }
    .type {
      font-size: 12px;
      padding: 0 8px;
      border-radius: 10px;
      background: var(--mat-sys-secondary-container);
      color: var(--mat-sys-on-secondary-container);
    }
    .urgency {
      font-size: 12px;
      color: #8c1d18;
    }
    .content {
      white-space: pre-wrap;
      word-break: break-word;
      margin-top: 4px;
    }
    .small {
      font-size: 12px;
    }
    .replies {
      margin-left: 24px;
      border-left: 2px solid var(--mat-sys-outline-variant);
      padding-left: 12px;
    }
  `,
})
export class MessageCard {
  readonly message = input.required<Message | ThreadMessage>();
  readonly replyable = input(false);
  readonly reply = output<Message>();
  protected readonly expanded = signal(false);

  protected readonly replies = computed(() => ('replies' in this.message() ? (this.message() as ThreadMessage).replies ?? [] : []));
  protected readonly long = computed(() => this.message().content.length > FOLDED_CHARS);
  protected readonly shownContent = computed(() =>
    this.long() && !this.expanded() ? `${this.message().content.slice(0, FOLDED_CHARS)}…` : this.message().content,
  );
  protected readonly tokens = computed(() => (this.message().prompt_tokens ?? 0) + (this.message().completion_tokens ?? 0));
  protected readonly testRuns = computed(() =>
    ((this.message().attachments ?? []) as Record<string, unknown>[]).filter((a) => a?.['kind'] === 'test_run'),
  );
}
