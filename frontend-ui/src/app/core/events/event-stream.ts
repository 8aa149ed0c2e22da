import { InjectionToken, Signal, signal } from '@angular/core';
import { Observable, Subject, filter } from 'rxjs';

import { EVENT_TYPES, EventType } from '../api/models';

/** connecting: first attempt; open: receiving; reconnecting: lost, trying again; closed: not connected (by choice or
 * because the run's stream has ended). */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** One event of the API's log, as a frame's `data:` carries it (plus the frame's `id:`). */
export interface LiveEvent<T = Record<string, unknown>> {
  id: number | null;
  event_type: EventType;
  workflow_id: string | null;
  data: T;
  timestamp: string;
}

/** What the stream needs of an EventSource (so tests can hand in a fake one). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => unknown) | null;
  onerror: ((event: Event) => unknown) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

export const EVENT_SOURCE_FACTORY = new InjectionToken<EventSourceFactory>('EventSource factory', {
  providedIn: 'root',
  factory: () => (url: string) => new EventSource(url),
});

/** Waits before opening a stream again after the browser gave up on it (the last one repeats). */
export const RECONNECT_DELAYS_MS = new InjectionToken<readonly number[]>('SSE reconnect delays', {
  providedIn: 'root',
  factory: () => [1000, 2000, 5000, 10000, 30000],
});

const CLOSED = 2; // EventSource.CLOSED

export interface StreamOptions {
  /** An event after which the server ends the stream for good (a run's final status): then stop, don't reconnect. */
  endsWith?: (event: LiveEvent) => boolean;
}

/**
 * One Server-Sent Events stream of the API, kept open. While the browser's EventSource reconnects by itself it sends
 * `Last-Event-ID`; when it gives up (readyState CLOSED: the API was down, a proxy answered 502) a new EventSource is
 * opened after a backoff, resuming with `?last_event_id=` so nothing is missed and nothing is delivered twice.
 */
export class EventStream {
  private readonly subject = new Subject<LiveEvent>();
  private readonly stateSignal = signal<ConnectionState>('closed');
  private readonly lastIdSignal = signal<number | null>(null);
  private readonly endedSignal = signal(false);
  private source: EventSourceLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private finalSeen = false;

  readonly events$: Observable<LiveEvent> = this.subject.asObservable();
  readonly state: Signal<ConnectionState> = this.stateSignal.asReadonly();
  readonly lastEventId: Signal<number | null> = this.lastIdSignal.asReadonly();
  /** The server ended the stream after its final event (a finished run). */
  readonly ended: Signal<boolean> = this.endedSignal.asReadonly();

  constructor(
    readonly url: string,
    private readonly factory: EventSourceFactory,
    private readonly delays: readonly number[],
    private readonly options: StreamOptions = {},
  ) {}

  /** Starts receiving (again after `close`), from the last event received. */
  open(): void {
    if (this.source || this.timer) {
      return;
    }
    this.finalSeen = false;
    this.endedSignal.set(false);
    this.connect();
  }

  /** Stops for good (until `open`). */
  close(): void {
    this.clearTimer();
    this.dropSource();
    this.stateSignal.set('closed');
  }

  /** Closes and opens again from the last event: e.g. after a run was resumed, whose stream had ended. */
  restart(): void {
    this.close();
    this.attempts = 0;
    this.open();
  }

  /** The events of these types. */
  on<T = Record<string, unknown>>(...types: EventType[]): Observable<LiveEvent<T>> {
    return this.events$.pipe(filter((event) => types.includes(event.event_type))) as Observable<LiveEvent<T>>;
  }

  private connect(): void {
    this.timer = null;
    const last = this.lastIdSignal();
    const url = last === null ? this.url : `${this.url}${this.url.includes('?') ? '&' : '?'}last_event_id=${last}`;
    this.stateSignal.set(this.attempts === 0 && last === null ? 'connecting' : 'reconnecting');
    const source = this.factory(url);
    this.source = source;
    source.onopen = () => {
      if (this.source === source) {
        this.attempts = 0;
        this.stateSignal.set('open');
      }
    };
    source.onerror = () => this.failed(source);
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => this.received(source, message));
    }
  }

  private received(source: EventSourceLike, message: MessageEvent): void {
    if (this.source !== source) {
      return;
    }
    let event: LiveEvent;
    try {
      event = JSON.parse(message.data) as LiveEvent;
    } catch {
      return; // not ours: the API only sends JSON
    }
    const id = message.lastEventId ? Number(message.lastEventId) : null;
    const last = this.lastIdSignal();
    if (id !== null && last !== null && id <= last) {
      return; // already delivered before a reconnect
    }
    event = { ...event, id };
    if (id !== null) {
      this.lastIdSignal.set(id);
    }
    if (this.options.endsWith?.(event)) {
      this.finalSeen = true;
    }
    this.subject.next(event);
  }

  private failed(source: EventSourceLike): void {
    if (this.source !== source) {
      return;
    }
    if (this.finalSeen) {
      // the server closed the stream after the run's last event: asking again would only get 204
      this.dropSource();
      this.endedSignal.set(true);
      this.stateSignal.set('closed');
      return;
    }
    if (source.readyState !== CLOSED) {
      this.stateSignal.set('reconnecting'); // the browser retries by itself, with Last-Event-ID
      return;
    }
    this.dropSource();
    this.stateSignal.set('reconnecting');
    const delay = this.delays[Math.min(this.attempts, this.delays.length - 1)] ?? 1000;
    this.attempts += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private dropSource(): void {
    if (this.source) {
      this.source.onopen = null;
      this.source.onerror = null;
      this.source.close();
      this.source = null;
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
