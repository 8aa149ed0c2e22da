import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';

import { ConnectionIndicator } from './connection-indicator';

describe('ConnectionIndicator', () => {
  it('shows each state in words and as data-state', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(ConnectionIndicator);
    const expected = { connecting: 'Connecting', open: 'Live', reconnecting: 'Reconnecting', closed: 'Offline' };
    for (const [state, label] of Object.entries(expected)) {
      fixture.componentRef.setInput('state', state);
      await fixture.whenStable();
      const element: HTMLElement = fixture.nativeElement.querySelector('[data-testid="connection-indicator"]');
      expect(element.dataset['state']).toBe(state);
      expect(element.textContent).toContain(label);
    }
  });
});
