import { DatePipe, DecimalPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatIconModule } from '@angular/material/icon';
import { RouterLink } from '@angular/router';
import { debounceTime } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { Health, ModelBackend, Workflow } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LiveEvents } from '../../core/events/live-events';
import { humanize, modelBackend } from '../../core/ui/labels';
import { LoadState } from '../../core/ui/load-state';
import { HumanizePipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';
import { liveRunProgress } from '../workflows/live-progress';
import { WorkflowTable } from '../workflows/workflow-table';
import {
  Counts, RecentDecision, TokensToday, loadActiveRuns, loadCounts, loadRecentDecisions, loadTokensToday,
} from './dashboard-data';

/**
 * What is going on: counts, runs going now (live), recent decisions, tokens used today, and the system's health with
 * its model services (how busy each is).
 */
@Component({
  selector: 'app-dashboard-page',
  imports: [
    DatePipe, DecimalPipe, RouterLink, MatButtonModule, MatCardModule, MatIconModule, LoadState, HumanizePipe,
    StatusChip, WorkflowTable,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './dashboard-page.html',
  styleUrl: './dashboard-page.scss',
})
export class DashboardPage {
  private readonly api = inject(ApiClient);

  protected readonly counts = loadable<Counts>();
  protected readonly active = loadable<Workflow[]>();
  protected readonly decisions = loadable<RecentDecision[]>();
  protected readonly tokens = loadable<TokensToday>();
  protected readonly health = loadable<Health>();
  protected readonly live = liveRunProgress();
  protected readonly components = computed(() => Object.entries(this.health.value()?.components ?? {}));
  protected readonly models = computed(() => this.health.value()?.models ?? []);
  protected readonly sections = [
    { key: 'projects', title: 'Projects', link: '/projects', icon: 'folder' },
    { key: 'agents', title: 'Agents', link: '/agents', icon: 'smart_toy' },
    { key: 'workflows', title: 'Workflows', link: '/workflows', icon: 'account_tree' },
  ] as const;

  constructor() {
    this.counts.load(() => loadCounts(this.api));
    this.active.load(() => loadActiveRuns(this.api));
    this.decisions.load(() => loadRecentDecisions(this.api));
    this.tokens.load(() => loadTokensToday(this.api));
    this.health.load(() => this.api.health());

    const events = inject(LiveEvents);
    events
      .on('workflow_status_changed', 'agent_status_changed')
      .pipe(debounceTime(1000), takeUntilDestroyed())
      .subscribe(() => {
        this.counts.refresh();
        this.active.refresh();
        this.health.refresh(); // the model services' busy and queued requests follow the runs
      });
    events
      .on('new_decision')
      .pipe(debounceTime(1000), takeUntilDestroyed())
      .subscribe(() => this.decisions.refresh());
    events
      .on('new_message')
      .pipe(debounceTime(5000), takeUntilDestroyed())
      .subscribe(() => this.tokens.refresh());
  }

  protected entries(record: Record<string, number>): [string, number][] {
    return Object.entries(record);
  }

  protected roleNames(roles: string[]): string {
    return roles.map(humanize).join(', ');
  }

  protected backend(backend: ModelBackend): string {
    return modelBackend(backend);
  }
}
