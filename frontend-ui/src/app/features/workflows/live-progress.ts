import { Signal, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';

import { Workflow } from '../../core/api/models';
import { LiveEvents } from '../../core/events/live-events';

/** What the live stream has said of a run since the page loaded. */
export interface RunLive {
  status?: string;
  progress_percentage?: number;
  current_step?: string | null;
  completed_steps?: number;
  total_steps?: number;
}

/** Status and progress of every run, kept current from the app-wide stream (for lists and the dashboard). */
export function liveRunProgress(): Signal<Record<string, RunLive>> {
  const runs = signal<Record<string, RunLive>>({});
  inject(LiveEvents)
    .on<Record<string, unknown>>('workflow_progress_update', 'workflow_status_changed')
    .pipe(takeUntilDestroyed())
    .subscribe((event) => {
      const id = event.workflow_id;
      if (!id) {
        return;
      }
      const data = event.data;
      const change: RunLive =
        event.event_type === 'workflow_status_changed'
          ? { status: String(data['status']) }
          : 'progress_percentage' in data
            ? {
                progress_percentage: Number(data['progress_percentage']),
                current_step: (data['current_step'] as string | null) ?? null,
                completed_steps: Number(data['completed_steps']),
                total_steps: Number(data['total_steps']),
              }
            : {}; // a test round's progress (`tests`): not a run's percentage
      runs.update((all) => ({ ...all, [id]: { ...all[id], ...change } }));
    });
  return runs.asReadonly();
}

/** A run's progress in percent: the live figure, else what the run recorded. */
export function progressOf(workflow: Workflow, live?: RunLive): number {
  const recorded = workflow.metrics?.['progress_percentage'];
  const value = live?.progress_percentage ?? (typeof recorded === 'number' ? recorded : 0);
  return Math.max(0, Math.min(100, value));
}

export function statusOf(workflow: Workflow, live?: RunLive): string {
  return live?.status ?? workflow.status;
}

export function currentStepOf(workflow: Workflow, live?: RunLive): string | null {
  if (live && 'current_step' in live) {
    return live.current_step ?? null;
  }
  const recorded = workflow.metrics?.['current_step'];
  return typeof recorded === 'string' ? recorded : null;
}
