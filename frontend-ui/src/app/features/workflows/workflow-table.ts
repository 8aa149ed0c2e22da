import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTableModule } from '@angular/material/table';
import { RouterLink } from '@angular/router';

import { Workflow } from '../../core/api/models';
import { HumanizePipe } from '../../core/ui/pipes';
import { StatusChip } from '../../core/ui/status-chip';
import { RunLive, currentStepOf, progressOf, statusOf } from './live-progress';

/** Runs in a table, with their live status and progress. */
@Component({
  selector: 'app-workflow-table',
  imports: [DatePipe, RouterLink, MatTableModule, MatProgressBarModule, HumanizePipe, StatusChip],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <table mat-table [dataSource]="workflows()" class="data-table" [attr.data-testid]="testId()">
      <ng-container matColumnDef="name">
        <th mat-header-cell *matHeaderCellDef>Name</th>
        <td mat-cell *matCellDef="let w">
          <a [routerLink]="['/workflows', w.workflow_id]" [attr.data-testid]="'workflow-link-' + w.workflow_id">{{
            w.name
          }}</a>
        </td>
      </ng-container>
      <ng-container matColumnDef="type">
        <th mat-header-cell *matHeaderCellDef>Type</th>
        <td mat-cell *matCellDef="let w">{{ w.workflow_type | humanize }}</td>
      </ng-container>
      <ng-container matColumnDef="status">
        <th mat-header-cell *matHeaderCellDef>Status</th>
        <td mat-cell *matCellDef="let w"><app-status-chip [status]="status(w)" /></td>
      </ng-container>
      <ng-container matColumnDef="progress">
        <th mat-header-cell *matHeaderCellDef>Progress</th>
        <td mat-cell *matCellDef="let w" class="progress-cell">
          <mat-progress-bar mode="determinate" [value]="progress(w)" />
          <span class="muted small"
            >{{ progress(w) }}%{{ currentStep(w) ? ' · ' + (currentStep(w) | humanize) : '' }}</span
          >
        </td>
      </ng-container>
      <ng-container matColumnDef="priority">
        <th mat-header-cell *matHeaderCellDef>Priority</th>
        <td mat-cell *matCellDef="let w">{{ w.priority | humanize }}</td>
      </ng-container>
      <ng-container matColumnDef="created">
        <th mat-header-cell *matHeaderCellDef>Created</th>
        <td mat-cell *matCellDef="let w">{{ w.created_at | date: 'short' }}</td>
      </ng-container>
      <tr mat-header-row *matHeaderRowDef="columns()"></tr>
      <tr mat-row *matRowDef="let w; columns: columns()" [attr.data-testid]="'workflow-row-' + w.workflow_id"></tr>
    </table>
  `,
  styles: `
    .progress-cell {
      min-width: 160px;
    }
    .small {
      font-size: 12px;
    }
  `,
})
export class WorkflowTable {
  readonly workflows = input.required<Workflow[]>();
  readonly live = input<Record<string, RunLive>>({});
  readonly columns = input(['name', 'type', 'status', 'progress', 'priority', 'created']);
  readonly testId = input('workflow-list');

  protected status(workflow: Workflow): string {
    return statusOf(workflow, this.live()[workflow.workflow_id]);
  }

  protected progress(workflow: Workflow): number {
    return progressOf(workflow, this.live()[workflow.workflow_id]);
  }

  protected currentStep(workflow: Workflow): string | null {
    return currentStepOf(workflow, this.live()[workflow.workflow_id]);
  }
}
