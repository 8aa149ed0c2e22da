import { DestroyRef, Signal, computed, inject, signal } from '@angular/core';
import { Observable, Subscription } from 'rxjs';

import { apiErrorMessage, apiErrorStatus } from '../api/api-error';

/**
 * Something loaded from the API, as signals: `value`, `loading`, `error` (a readable message). `load` replaces an
 * earlier request still under way; `refresh` loads the last source again without blanking what is shown.
 */
export class Loadable<T> {
  private readonly valueSignal = signal<T | undefined>(undefined);
  private readonly loadingSignal = signal(false);
  private readonly errorSignal = signal<string | null>(null);
  private readonly errorStatusSignal = signal<number | null>(null);
  private subscription: Subscription | null = null;
  private source: (() => Observable<T>) | null = null;

  readonly value: Signal<T | undefined> = this.valueSignal.asReadonly();
  readonly loading: Signal<boolean> = this.loadingSignal.asReadonly();
  readonly error: Signal<string | null> = this.errorSignal.asReadonly();
  /** The HTTP status of the last failure (0: the API was not reached), or null. */
  readonly errorStatus: Signal<number | null> = this.errorStatusSignal.asReadonly();
  /** Loaded at least once (so "empty" means empty, not "not yet"). */
  readonly loaded = computed(() => this.valueSignal() !== undefined);

  /** Loads from `source` (called again by `refresh`). */
  load(source: () => Observable<T>): void {
    this.source = source;
    this.run(true);
  }

  /** Loads the same source again, quietly (for live updates): the old value stays until the new one arrives. */
  refresh(): void {
    if (this.source) {
      this.run(false);
    }
  }

  set(value: T): void {
    this.valueSignal.set(value);
  }

  update(change: (value: T) => T): void {
    const value = this.valueSignal();
    if (value !== undefined) {
      this.valueSignal.set(change(value));
    }
  }

  destroy(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private run(showLoading: boolean): void {
    this.subscription?.unsubscribe();
    if (showLoading) {
      this.loadingSignal.set(true);
    }
    this.errorSignal.set(null);
    this.errorStatusSignal.set(null);
    this.subscription = this.source!().subscribe({
      next: (value) => this.valueSignal.set(value),
      error: (error: unknown) => {
        this.errorSignal.set(apiErrorMessage(error));
        this.errorStatusSignal.set(apiErrorStatus(error));
        this.loadingSignal.set(false);
      },
      complete: () => this.loadingSignal.set(false),
    });
  }
}

/** A Loadable that stops its request when the component (or service) that made it is destroyed. */
export function loadable<T>(): Loadable<T> {
  const data = new Loadable<T>();
  inject(DestroyRef).onDestroy(() => data.destroy());
  return data;
}
