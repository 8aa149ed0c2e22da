import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

import { humanize } from './labels';

const TONES: Record<string, string> = {
  running: 'info', busy: 'info', active: 'info', open: 'ok',
  completed: 'ok', passed: 'ok', idle: 'ok', up: 'ok', ok: 'ok',
  pending: 'neutral', planning: 'neutral', skipped: 'neutral', offline: 'neutral', disabled: 'neutral',
  archived: 'neutral',
  paused: 'warn', waiting_for_approval: 'warn', degraded: 'warn', stopped: 'warn', reconnecting: 'warn',
  failed: 'error', error: 'error', cancelled: 'error', down: 'error', invalid: 'error',
};

/** A status as a small coloured label (its value in `data-status`, for tests). */
@Component({
  selector: 'app-status-chip',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<span class="chip" [class]="'chip tone-' + tone()" [attr.data-status]="status()">{{ label() }}</span>`,
  styles: `
    .chip {
      display: inline-block;
      padding: 2px 10px;
      border-radius: 12px;
      font-size: 12px;
      line-height: 18px;
      font-weight: 500;
      white-space: nowrap;
    }
    .tone-ok { background: #d7f5dd; color: #0b5d1e; }
    .tone-info { background: #d6e7ff; color: #0b3c8c; }
    .tone-warn { background: #fff0c2; color: #6b4d00; }
    .tone-error { background: #ffdad6; color: #8c1d18; }
    .tone-neutral { background: #e6e6ea; color: #44464f; }
  `,
})
export class StatusChip {
  readonly status = input.required<string | null | undefined>();
  readonly tone = computed(() => TONES[this.status() ?? ''] ?? 'neutral');
  readonly label = computed(() => humanize(this.status()));
}
