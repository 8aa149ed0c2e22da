import { DatePipe, DecimalPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, DestroyRef, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTabsModule } from '@angular/material/tabs';
import { RouterLink } from '@angular/router';
import { EMPTY, Observable, debounceTime, filter, map, switchMap } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { apiErrorMessage } from '../../core/api/api-error';
import {
  ACTIVE_WORKFLOW_STATUSES, Project, RESUMABLE_WORKFLOW_STATUSES, RunError, StepState, TestRound, WorkflowDetail,
} from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { EventStream, LiveEvent } from '../../core/events/event-stream';
import { EventStreamService } from '../../core/events/event-stream.service';
import { LiveEvents } from '../../core/events/live-events';
import { ConnectionIndicator } from '../../core/ui/connection-indicator';
import { LoadState } from '../../core/ui/load-state';
import { Notifier } from '../../core/ui/notifier';
import { HumanizePipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';
import { ArtifactsPanel } from './artifacts-panel';
import { CommunicationTab } from './communication/communication-tab';
import { StepList } from './step-list';

/** Events after which the run's row (status, steps, errors, links) is read again. */
const RUN_CHANGES = new Set([
  'workflow_status_changed', 'workflow_progress_update', 'step_started', 'step_completed', 'error_occurred',
  'integration_synced', 'artifact_created',
]);

interface ProgressData {
  progress_percentage?: number;
  current_step?: string | null;
  completed_steps?: number;
  total_steps?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  awaiting_approval?: string | null;
  step?: string;
  tests?: TestRound;
}

export const TABS = { overview: 0, communication: 1, artifacts: 2 } as const;

/** One run, live: status, progress and steps (with test rounds), errors, Jira/Confluence links, Cancel / Resume; the
 * agents' communication; the files they wrote. */
@Component({
  selector: 'app-workflow-detail-page',
  imports: [
    DatePipe, DecimalPipe, RouterLink, MatButtonModule, MatIconModule, MatProgressBarModule, MatTabsModule,
    ConnectionIndicator, LoadState, HumanizePipe, StatusChip, ArtifactsPanel, CommunicationTab, StepList,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './workflow-detail-page.html',
  styleUrl: './workflow-detail-page.scss',
})
export class WorkflowDetailPage {
  private readonly api = inject(ApiClient);
  private readonly streams = inject(EventStreamService);
  private readonly notifier = inject(Notifier);
  private readonly destroyRef = inject(DestroyRef);

  /** From the route (`/workflows/:workflowId`). */
  readonly workflowId = input.required<string>();

  protected readonly workflow = loadable<WorkflowDetail>();
  protected readonly project = loadable<Project>();
  protected readonly testRounds = loadable<TestRound[]>();
  protected readonly stream = signal<EventStream | null>(null);
  protected readonly events = signal<Observable<LiveEvent> | null>(null);
  protected readonly live = signal<ProgressData & { status?: string }>({});
  protected readonly liveTests = signal<Record<string, TestRound>>({});
  protected readonly tab = signal<number>(TABS.overview);
  protected readonly acting = signal<'cancel' | 'resume' | null>(null);
  protected readonly actionError = signal<string | null>(null);

  protected readonly status = computed(() => this.live().status ?? this.workflow.value()?.status ?? '');
  protected readonly canCancel = computed(() => ACTIVE_WORKFLOW_STATUSES.includes(this.status()));
  protected readonly canResume = computed(() => RESUMABLE_WORKFLOW_STATUSES.includes(this.status()));
  protected readonly steps = computed(() => (this.workflow.value()?.steps ?? []) as StepState[]);
  protected readonly errors = computed(() => (this.workflow.value()?.errors ?? []) as RunError[]);
  protected readonly metric = (name: string): unknown => this.workflow.value()?.metrics?.[name];
  protected readonly progress = computed(() => {
    const live = this.live().progress_percentage;
    const recorded = this.metric('progress_percentage');
    return live ?? (typeof recorded === 'number' ? recorded : 0);
  });
  protected readonly currentStep = computed(() => {
    const live = this.live();
    const step = 'current_step' in live ? live.current_step : this.metric('current_step');
    return typeof step === 'string' ? step : null;
  });
  protected readonly tokens = computed(() => {
    const live = this.live();
    const prompt = live.prompt_tokens ?? Number(this.metric('prompt_tokens') ?? 0);
    const completion = live.completion_tokens ?? Number(this.metric('completion_tokens') ?? 0);
    return { prompt, completion, total: prompt + completion };
  });
  /** The decision the run waits on for a person's answer. */
  protected readonly awaitingDecision = computed(() => {
    const live = this.live();
    const id = 'awaiting_approval' in live ? live.awaiting_approval : this.metric('awaiting_approval');
    return this.status() === 'paused' && typeof id === 'string' && id ? id : null;
  });

  constructor() {
    effect((onCleanup) => {
      const id = this.workflowId();
      const stream = untracked(() => this.open(id));
      onCleanup(() => stream.close());
    });
    // No such run: its stream would only be refused again and again.
    effect(() => {
      if (this.workflow.errorStatus() === 404) {
        untracked(() => this.stream()?.close());
      }
    });
    // Our run's stream ends with the run; a resume elsewhere (another tab, the CLI) shows on the app-wide stream.
    inject(LiveEvents)
      .on('workflow_status_changed')
      .pipe(takeUntilDestroyed())
      .subscribe((event) => {
        const stream = this.stream();
        if (event.workflow_id === this.workflowId() && stream?.ended()) {
          stream.restart();
        }
      });
    // Live events reach this page's pieces through `events`, whichever stream is current.
    toObservable(this.events)
      .pipe(
        switchMap((events) => events ?? EMPTY),
        takeUntilDestroyed(),
      )
      .subscribe((event) => this.apply(event));
    const runEvents = toObservable(this.events).pipe(switchMap((events) => events ?? EMPTY));
    runEvents
      .pipe(filter((e) => RUN_CHANGES.has(e.event_type)), debounceTime(400), takeUntilDestroyed())
      .subscribe(() => this.workflow.refresh());
    runEvents
      .pipe(
        filter(
          (e) =>
            (e.event_type === 'workflow_progress_update' && 'tests' in e.data) ||
            (e.event_type === 'new_message' && e.data['message_type'] === 'review'),
        ),
        debounceTime(500),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.testRounds.refresh());
  }

  private open(id: string): EventStream {
    this.live.set({});
    this.liveTests.set({});
    this.workflow.load(() =>
      this.api.workflow(id).pipe(
        map((workflow) => {
          if (workflow.project_id && this.project.value()?.id !== workflow.project_id) {
            const projectId = workflow.project_id;
            this.project.load(() => this.api.project(projectId));
          }
          return workflow;
        }),
      ),
    );
    this.testRounds.load(() =>
      this.api.messages(id, { message_type: 'review', limit: 500 }).pipe(
        map((page) =>
          page.items.flatMap((m) =>
            ((m.attachments ?? []) as Record<string, unknown>[])
              .filter((a) => a?.['kind'] === 'test_run')
              .map((a) => a as unknown as TestRound),
          ),
        ),
      ),
    );
    const stream = this.streams.workflowStream(id);
    this.stream.set(stream);
    this.events.set(stream.events$);
    stream.open();
    return stream;
  }

  /** What an event says at once (the row is read again shortly after, for the rest). */
  private apply(event: LiveEvent): void {
    const data = event.data as ProgressData & { status?: string };
    if (event.event_type === 'workflow_status_changed' && data.status) {
      this.live.update((live) => ({ ...live, status: data.status }));
    } else if (event.event_type === 'workflow_progress_update') {
      if (data.tests && data.step) {
        const step = data.step;
        const tests = data.tests;
        this.liveTests.update((all) => ({ ...all, [step]: tests }));
      } else {
        this.live.update((live) => ({
          ...live,
          progress_percentage: data.progress_percentage,
          current_step: data.current_step ?? null,
          completed_steps: data.completed_steps,
          total_steps: data.total_steps,
          prompt_tokens: data.prompt_tokens,
          completion_tokens: data.completion_tokens,
          awaiting_approval: data.awaiting_approval ?? null,
        }));
      }
    }
  }

  protected cancel(): void {
    this.act('cancel', this.api.cancelWorkflow(this.workflowId()), 'Cancel requested: the run stops within seconds.');
  }

  protected resume(): void {
    this.act('resume', this.api.resumeWorkflow(this.workflowId()), 'Resumed after its last finished step.');
  }

  private act(action: 'cancel' | 'resume', request: Observable<unknown>, done: string): void {
    this.acting.set(action);
    this.actionError.set(null);
    request.pipe(takeUntilDestroyed(this.destroyRef)).subscribe({
      next: () => {
        this.acting.set(null);
        this.notifier.done(done);
        this.live.update((live) => ({ ...live, status: undefined }));
        this.workflow.refresh();
        if (action === 'resume') {
          this.stream()?.restart(); // its stream had ended with the run
        }
      },
      error: (error: unknown) => {
        this.acting.set(null);
        const what = action === 'cancel' ? 'The run was not cancelled' : 'The run was not resumed';
        this.actionError.set(`${what}: ${apiErrorMessage(error)}`);
        this.workflow.refresh();
      },
    });
  }

  protected showDecision(): void {
    this.tab.set(TABS.communication);
  }
}
