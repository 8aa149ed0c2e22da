import { Injectable, inject } from '@angular/core';
import { MatSnackBar } from '@angular/material/snack-bar';

import { apiErrorMessage } from '../api/api-error';

/** Short confirmations and failures of actions, at the bottom of the screen. */
@Injectable({ providedIn: 'root' })
export class Notifier {
  private readonly snackBar = inject(MatSnackBar);

  done(message: string): void {
    this.snackBar.open(message, 'OK', { duration: 4000 });
  }

  failed(error: unknown, what = 'That did not work'): void {
    this.snackBar.open(`${what}: ${apiErrorMessage(error)}`, 'Close', { duration: 10000, panelClass: 'snack-error' });
  }
}
