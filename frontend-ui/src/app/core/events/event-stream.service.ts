import { DestroyRef, Injectable, inject } from '@angular/core';

import { ApiClient } from '../api/api-client';
import { FINISHED_WORKFLOW_STATUSES } from '../api/models';
import { EVENT_SOURCE_FACTORY, EventStream, LiveEvent, RECONNECT_DELAYS_MS, StreamOptions } from './event-stream';

/** A run's final status event: its stream ends after it. */
export function isFinalStatus(event: LiveEvent): boolean {
  return (
    event.event_type === 'workflow_status_changed' &&
    FINISHED_WORKFLOW_STATUSES.includes(String((event.data as { status?: unknown }).status))
  );
}

/** Opens the API's live streams. */
@Injectable({ providedIn: 'root' })
export class EventStreamService {
  private readonly factory = inject(EVENT_SOURCE_FACTORY);
  private readonly delays = inject(RECONNECT_DELAYS_MS);
  private readonly api = inject(ApiClient);

  /** A stream of `url` (not yet open); whoever asks for it closes it. */
  stream(url: string, options: StreamOptions = {}): EventStream {
    return new EventStream(url, this.factory, this.delays, options);
  }

  /** One run's events, from its first; the stream ends after the run's final status. */
  workflowStream(workflowId: string): EventStream {
    return this.stream(this.api.workflowEventsUrl(workflowId), { endsWith: isFinalStatus });
  }

  /** Every run's events, from now on. */
  allEventsStream(): EventStream {
    return this.stream(this.api.eventsUrl());
  }
}

/** Opens a run's stream for the component or service being created, and closes it when that is destroyed. */
export function openWorkflowStream(workflowId: string): EventStream {
  const stream = inject(EventStreamService).workflowStream(workflowId);
  inject(DestroyRef).onDestroy(() => stream.close());
  stream.open();
  return stream;
}
