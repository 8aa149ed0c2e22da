import { ChangeDetectionStrategy, Component, inject, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';

import { ApiClient } from '../../../core/api/api-client';
import { apiErrorMessage } from '../../../core/api/api-error';
import { Message } from '../../../core/api/models';
import { randomUuid } from '../../../core/data/uuid';

/** A person's message to the run's agents (the next agent turn reads it), optionally a reply in a thread. */
@Component({
  selector: 'app-message-composer',
  imports: [FormsModule, MatButtonModule, MatFormFieldModule, MatIconModule, MatInputModule],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <form class="composer" (ngSubmit)="send()" data-testid="message-composer">
      @if (replyTo(); as parent) {
        <div class="reply-to muted">
          Replying to {{ parent.agent_name }}: “{{ parent.content.slice(0, 80) }}{{ parent.content.length > 80 ? '…' : '' }}”
          <button mat-icon-button type="button" (click)="cancelReply.emit()" aria-label="Do not reply"><mat-icon>close</mat-icon></button>
        </div>
      }
      <mat-form-field class="full-width">
        <mat-label>{{ enabled() ? 'Message to the agents' : 'Messages reach only a run that is still going' }}</mat-label>
        <textarea
          matInput
          name="content"
          rows="3"
          [ngModel]="content()"
          (ngModelChange)="content.set($event)"
          [disabled]="!enabled() || sending()"
          (keydown.control.enter)="send()"
          data-testid="message-input"
        ></textarea>
        <mat-hint>Ctrl+Enter sends. The next agent turn sees it.</mat-hint>
      </mat-form-field>
      <div class="actions">
        <button
          mat-flat-button
          type="submit"
          [disabled]="!enabled() || sending() || !content().trim()"
          data-testid="send-message-button"
        >
          <mat-icon>send</mat-icon> Send
        </button>
      </div>
      @if (error(); as message) {
        <div class="error-box" role="alert"><mat-icon>error_outline</mat-icon><span data-testid="error-message">{{ message }}</span></div>
      }
    </form>
  `,
  styles: `
    .composer {
      margin-bottom: 12px;
    }
    .reply-to {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    .actions {
      display: flex;
      justify-content: flex-end;
      margin-top: 4px;
    }
  `,
})
export class MessageComposer {
  private readonly api = inject(ApiClient);

  readonly workflowId = input.required<string>();
  readonly enabled = input(true);
  readonly replyTo = input<Message | null>(null);
  readonly sent = output<Message>();
  readonly cancelReply = output<void>();

  protected readonly content = signal('');
  protected readonly sending = signal(false);
  protected readonly error = signal<string | null>(null);
  /** The id of the message being sent: a retry after a failure posts it once, not twice. */
  private messageId = randomUuid();

  protected send(): void {
    const content = this.content().trim();
    if (!content || this.sending() || !this.enabled()) {
      return;
    }
    this.sending.set(true);
    this.error.set(null);
    this.api
      .sendMessage(this.workflowId(), {
        content,
        message_id: this.messageId,
        parent_message_id: this.replyTo()?.message_id ?? null,
      })
      .subscribe({
        next: (message) => {
          this.sending.set(false);
          this.content.set('');
          this.messageId = randomUuid();
          this.sent.emit(message);
        },
        error: (error: unknown) => {
          this.sending.set(false);
          this.error.set(apiErrorMessage(error));
        },
      });
  }
}
