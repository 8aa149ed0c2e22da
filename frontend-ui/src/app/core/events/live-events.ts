import { Injectable, Signal, inject } from '@angular/core';
import { Observable } from 'rxjs';

import { EventType } from '../api/models';
import { ConnectionState, EventStream, LiveEvent } from './event-stream';
import { EventStreamService } from './event-stream.service';

/** The app-wide stream of every run's events (`GET /api/events`): opened once by the shell, shared by all pages. */
@Injectable({ providedIn: 'root' })
export class LiveEvents {
  private readonly stream: EventStream = inject(EventStreamService).allEventsStream();

  readonly state: Signal<ConnectionState> = this.stream.state;
  readonly events$: Observable<LiveEvent> = this.stream.events$;

  start(): void {
    this.stream.open();
  }

  stop(): void {
    this.stream.close();
  }

  on<T = Record<string, unknown>>(...types: EventType[]): Observable<LiveEvent<T>> {
    return this.stream.on<T>(...types);
  }
}
