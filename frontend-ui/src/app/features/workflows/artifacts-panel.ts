import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, DestroyRef, effect, inject, input, signal, untracked } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTableModule } from '@angular/material/table';
import { Observable, Subscription, debounceTime, filter } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import { apiErrorMessage } from '../../core/api/api-error';
import { Artifact, Page } from '../../core/api/models';
import { loadable } from '../../core/data/loadable';
import { LiveEvent } from '../../core/events/event-stream';
import { LoadState } from '../../core/ui/load-state';
import { BytesPipe, HumanizePipe } from '../../core/ui/pipes';

/** Most files agents write are text; shown inline up to this size, downloaded otherwise. */
const VIEWABLE_BYTES = 2 * 1024 * 1024;

function isText(artifact: Artifact): boolean {
  const type = artifact.content_type.toLowerCase();
  return (
    type.startsWith('text/') || /json|xml|yaml|toml|javascript|x-python|x-sh|markdown/.test(type)
  ) && artifact.size_bytes <= VIEWABLE_BYTES;
}

/** The files a run's agents wrote: view text inline, download any. */
@Component({
  selector: 'app-artifacts-panel',
  imports: [DatePipe, MatButtonModule, MatIconModule, MatProgressBarModule, MatTableModule, LoadState, BytesPipe, HumanizePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <app-load-state
      [loading]="artifacts.loading()"
      [error]="artifacts.error()"
      [empty]="artifacts.loaded() && !artifacts.value()?.items?.length"
      emptyText="No files yet: the agents' code, designs and documents appear here as they write them."
      (retry)="artifacts.refresh()"
    >
      <table mat-table [dataSource]="artifacts.value()?.items ?? []" class="data-table" data-testid="artifact-list">
        <ng-container matColumnDef="path">
          <th mat-header-cell *matHeaderCellDef>File</th>
          <td mat-cell *matCellDef="let a" class="mono">{{ a.path }}</td>
        </ng-container>
        <ng-container matColumnDef="step">
          <th mat-header-cell *matHeaderCellDef>Step</th>
          <td mat-cell *matCellDef="let a">{{ a.step | humanize }}</td>
        </ng-container>
        <ng-container matColumnDef="size">
          <th mat-header-cell *matHeaderCellDef>Size</th>
          <td mat-cell *matCellDef="let a">{{ a.size_bytes | bytes }}</td>
        </ng-container>
        <ng-container matColumnDef="type">
          <th mat-header-cell *matHeaderCellDef>Type</th>
          <td mat-cell *matCellDef="let a" class="muted">{{ a.content_type }}</td>
        </ng-container>
        <ng-container matColumnDef="created">
          <th mat-header-cell *matHeaderCellDef>Written</th>
          <td mat-cell *matCellDef="let a">{{ a.created_at | date: 'mediumTime' }}</td>
        </ng-container>
        <ng-container matColumnDef="actions">
          <th mat-header-cell *matHeaderCellDef></th>
          <td mat-cell *matCellDef="let a" class="actions">
            @if (viewable(a)) {
              <button mat-button type="button" (click)="view(a)" [attr.data-testid]="'artifact-view-' + a.id">View</button>
            }
            <a mat-button [href]="url(a)" [attr.download]="fileName(a)" [attr.data-testid]="'artifact-download-' + a.id">
              <mat-icon>download</mat-icon> Download
            </a>
          </td>
        </ng-container>
        <tr mat-header-row *matHeaderRowDef="columns"></tr>
        <tr mat-row *matRowDef="let a; columns: columns" [class.selected]="shown()?.id === a.id"></tr>
      </table>
    </app-load-state>
    @if (shown(); as a) {
      <section class="viewer" data-testid="artifact-viewer">
        <div class="viewer-head">
          <strong class="mono">{{ a.path }}</strong>
          <span class="muted">sha256 {{ a.sha256.slice(0, 12) }}…</span>
          <span class="grow"></span>
          <button mat-button type="button" (click)="close()">Close</button>
        </div>
        @if (textLoading()) {
          <mat-progress-bar mode="indeterminate" />
        }
        @if (textError(); as message) {
          <div class="error-box" role="alert"><mat-icon>error_outline</mat-icon><span data-testid="error-message">{{ message }}</span></div>
        }
        @if (text() !== null) {
          <pre class="text" data-testid="artifact-text">{{ text() }}</pre>
        }
      </section>
    }
  `,
  styles: `
    .actions {
      white-space: nowrap;
    }
    tr.selected {
      background: var(--mat-sys-surface-container-high);
    }
    .viewer {
      margin-top: 16px;
    }
    .viewer-head {
      display: flex;
      gap: 12px;
      align-items: center;
      margin-bottom: 8px;
    }
    .grow {
      flex: 1;
    }
  `,
})
export class ArtifactsPanel {
  private readonly api = inject(ApiClient);
  private readonly destroyRef = inject(DestroyRef);

  readonly workflowId = input.required<string>();
  /** The run's live events: a new file reloads the list. */
  readonly events = input<Observable<LiveEvent> | null>(null);

  protected readonly columns = ['path', 'step', 'size', 'type', 'created', 'actions'];
  protected readonly artifacts = loadable<Page<Artifact>>();
  protected readonly shown = signal<Artifact | null>(null);
  protected readonly text = signal<string | null>(null);
  protected readonly textLoading = signal(false);
  protected readonly textError = signal<string | null>(null);
  private textRequest: Subscription | null = null;

  constructor() {
    effect(() => {
      const id = this.workflowId();
      untracked(() => this.artifacts.load(() => this.api.artifacts(id, { limit: 500 })));
    });
    effect((onCleanup) => {
      const events = this.events();
      if (!events) {
        return;
      }
      const subscription = events
        .pipe(
          filter((event) => event.event_type === 'artifact_created'),
          debounceTime(300),
          takeUntilDestroyed(this.destroyRef),
        )
        .subscribe(() => this.artifacts.refresh());
      onCleanup(() => subscription.unsubscribe());
    });
    this.destroyRef.onDestroy(() => this.textRequest?.unsubscribe());
  }

  protected viewable(artifact: Artifact): boolean {
    return isText(artifact);
  }

  protected url(artifact: Artifact): string {
    return this.api.artifactUrl(this.workflowId(), artifact.id);
  }

  protected fileName(artifact: Artifact): string {
    return artifact.path.split('/').pop() ?? artifact.path;
  }

  protected view(artifact: Artifact): void {
    this.shown.set(artifact);
    this.text.set(null);
    this.textError.set(null);
    this.textLoading.set(true);
    this.textRequest?.unsubscribe();
    this.textRequest = this.api.artifactText(this.workflowId(), artifact.id).subscribe({
      next: (text) => {
        this.text.set(text);
        this.textLoading.set(false);
      },
      error: (error: unknown) => {
        this.textError.set(apiErrorMessage(error));
        this.textLoading.set(false);
      },
    });
  }

  protected close(): void {
    this.textRequest?.unsubscribe();
    this.shown.set(null);
    this.text.set(null);
  }
}
