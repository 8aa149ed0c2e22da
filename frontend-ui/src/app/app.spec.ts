import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { FakeEventSource } from '../testing/fake-event-source';
import { byTestId, testProviders } from '../testing/providers';
import { App } from './app';

describe('App shell', () => {
  beforeEach(() => FakeEventSource.reset());

  it('opens the live stream of all runs and shows its state', async () => {
    TestBed.configureTestingModule({ providers: testProviders() });
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const indicator = () => byTestId(fixture.nativeElement, 'connection-indicator');

    expect(FakeEventSource.latest().url).toBe('/api/events');
    expect(indicator().dataset['state']).toBe('connecting');
    FakeEventSource.latest().open();
    await fixture.whenStable();
    expect(indicator().dataset['state']).toBe('open');
    FakeEventSource.latest().drop('retrying');
    await fixture.whenStable();
    expect(indicator().dataset['state']).toBe('reconnecting');

    expect(byTestId(fixture.nativeElement, 'nav-workflows').textContent).toContain('Workflows');
    TestBed.inject(HttpTestingController).verify();
    fixture.destroy();
    expect(FakeEventSource.latest().closed).toBeTrue();
  });
});
