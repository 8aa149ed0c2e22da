import { DecimalPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, DestroyRef, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatSelectModule } from '@angular/material/select';
import { Observable, debounceTime, filter } from 'rxjs';

import { ApiClient } from '../../../core/api/api-client';
import {
  CommunicationStats, Decision, MESSAGE_TYPES, Message, MessageType, Page, Thread,
} from '../../../core/api/models';
import { loadable } from '../../../core/data/loadable';
import { LiveEvent } from '../../../core/events/event-stream';
import { LoadState } from '../../../core/ui/load-state';
import { Notifier } from '../../../core/ui/notifier';
import { HumanizePipe } from '../../../core/ui/pipes';
import { DecisionCard } from './decision-card';
import { MessageCard } from './message-card';
import { MessageComposer } from './message-composer';

/** What a run's agents said and decided, live: threads (or filtered messages), a box to write to them, decisions
 * (Approve / Override when one waits for a person) and statistics. */
@Component({
  selector: 'app-communication-tab',
  imports: [
    DecimalPipe, FormsModule, MatButtonModule, MatFormFieldModule, MatIconModule, MatSelectModule, LoadState,
    HumanizePipe, DecisionCard, MessageCard, MessageComposer,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './communication-tab.html',
  styleUrl: './communication-tab.scss',
})
export class CommunicationTab {
  private readonly api = inject(ApiClient);
  private readonly notifier = inject(Notifier);
  private readonly destroyRef = inject(DestroyRef);

  readonly workflowId = input.required<string>();
  /** The run is still going: a person's message reaches it. */
  readonly active = input(false);
  /** The decision the run waits on for a person's answer, if any. */
  readonly awaitingDecision = input<string | null>(null);
  /** The run's live events. */
  readonly events = input<Observable<LiveEvent> | null>(null);

  protected readonly messageTypes = MESSAGE_TYPES;
  protected readonly messageType = signal<MessageType | null>(null);
  protected readonly agentId = signal<string | null>(null);
  protected readonly replyTo = signal<Message | null>(null);
  protected readonly filtered = computed(() => !!(this.messageType() || this.agentId()));

  protected readonly threads = loadable<Page<Thread>>();
  protected readonly messages = loadable<Page<Message>>();
  protected readonly decisions = loadable<Page<Decision>>();
  protected readonly stats = loadable<CommunicationStats>();
  /** Authors with an id (agents), for the filter. */
  protected readonly agents = computed(() =>
    (this.stats.value()?.by_agent ?? []).filter((a) => a.agent_id).map((a) => ({ id: a.agent_id!, name: a.agent_name })),
  );
  protected readonly byType = computed(() => Object.entries(this.stats.value()?.by_type ?? {}));

  constructor() {
    effect(() => {
      const id = this.workflowId();
      untracked(() => {
        this.threads.load(() => this.api.threads(id, { limit: 500 }));
        this.decisions.load(() => this.api.decisions(id, { limit: 500 }));
        this.stats.load(() => this.api.stats(id));
      });
    });
    effect(() => {
      const id = this.workflowId();
      const query = { message_type: this.messageType(), agent_id: this.agentId(), limit: 500 };
      if (query.message_type || query.agent_id) {
        untracked(() => this.messages.load(() => this.api.messages(id, query)));
      }
    });
    effect((onCleanup) => {
      const events = this.events();
      if (!events) {
        return;
      }
      const mine = events.pipe(takeUntilDestroyed(this.destroyRef));
      const subscriptions = [
        mine.pipe(filter((e) => e.event_type === 'new_message'), debounceTime(300)).subscribe(() => {
          this.refreshConversation();
          this.stats.refresh();
        }),
        mine.pipe(filter((e) => e.event_type === 'new_decision'), debounceTime(300)).subscribe(() => {
          this.decisions.refresh();
          this.stats.refresh();
        }),
      ];
      onCleanup(() => subscriptions.forEach((s) => s.unsubscribe()));
    });
  }

  private refreshConversation(): void {
    if (this.filtered()) {
      this.messages.refresh();
    } else {
      this.threads.refresh();
    }
  }

  protected clearFilters(): void {
    this.messageType.set(null);
    this.agentId.set(null);
  }

  protected sent(): void {
    this.replyTo.set(null);
    this.notifier.done('Message sent: the next agent turn reads it.');
    this.refreshConversation();
    this.stats.refresh();
  }

  protected answered(note: string): void {
    this.notifier.done(note);
    this.decisions.refresh();
  }
}
