import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { EnvironmentProviders, Provider, provideZonelessChangeDetection } from '@angular/core';
import { provideRouter } from '@angular/router';

import { EVENT_SOURCE_FACTORY, RECONNECT_DELAYS_MS } from '../app/core/events/event-stream';
import { FakeEventSource } from './fake-event-source';

/** What component tests share: zoneless change detection, HttpTestingController, a router, fake EventSources. */
export function testProviders(): (Provider | EnvironmentProviders)[] {
  return [
    provideZonelessChangeDetection(),
    provideHttpClient(),
    provideHttpClientTesting(),
    provideRouter([]),
    { provide: EVENT_SOURCE_FACTORY, useValue: FakeEventSource.factory },
    { provide: RECONNECT_DELAYS_MS, useValue: [10] },
  ];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The element with this data-testid (or fails the test). */
export function byTestId<T extends HTMLElement = HTMLElement>(root: HTMLElement, id: string): T {
  const element = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!element) {
    throw new Error(`no element with data-testid="${id}"`);
  }
  return element;
}
