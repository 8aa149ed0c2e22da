import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';

import { ConnectionState } from '../events/event-stream';

const SHOWN: Record<ConnectionState, { icon: string; label: string; hint: string }> = {
  connecting: { icon: 'sync', label: 'Connecting', hint: 'Opening the live stream of events' },
  open: { icon: 'wifi', label: 'Live', hint: 'Receiving live events' },
  reconnecting: { icon: 'sync_problem', label: 'Reconnecting', hint: 'The live stream dropped; reconnecting' },
  closed: { icon: 'wifi_off', label: 'Offline', hint: 'Not receiving live events' },
};
const ENDED = { icon: 'done_all', label: 'Ended', hint: 'The run has finished: its stream sent its last event' };

/** The state of a live stream: connecting, live, reconnecting or offline. */
@Component({
  selector: 'app-connection-indicator',
  imports: [MatIconModule, MatTooltipModule],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <span
      class="indicator"
      [class]="'indicator state-' + state()"
      [attr.data-testid]="testId()"
      [attr.data-state]="state()"
      [attr.data-ended]="ended() || null"
      [matTooltip]="shown().hint"
      role="status"
      [attr.aria-label]="label() + ': ' + shown().label"
    >
      <mat-icon inline>{{ shown().icon }}</mat-icon>
      <span>{{ label() ? label() + ' ' : '' }}{{ shown().label }}</span>
    </span>
  `,
  styles: `
    .indicator {
      display: inline-flex;
      align-items: center;
      gap: 4px;
      padding: 2px 10px;
      border-radius: 12px;
      font-size: 13px;
      white-space: nowrap;
    }
    .state-open { background: #d7f5dd; color: #0b5d1e; }
    .state-connecting, .state-reconnecting { background: #fff0c2; color: #6b4d00; }
    .state-closed { background: #e6e6ea; color: #44464f; }
  `,
})
export class ConnectionIndicator {
  readonly state = input.required<ConnectionState>();
  readonly label = input('');
  readonly testId = input('connection-indicator');
  /** The stream ended for good (a finished run): says so rather than "offline". */
  readonly ended = input(false);
  readonly shown = computed(() => (this.ended() && this.state() === 'closed' ? ENDED : SHOWN[this.state()]));
}
