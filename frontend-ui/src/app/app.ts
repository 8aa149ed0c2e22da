import { ChangeDetectionStrategy, Component, OnDestroy, OnInit, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatListModule } from '@angular/material/list';
import { MatSidenavModule } from '@angular/material/sidenav';
import { MatToolbarModule } from '@angular/material/toolbar';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

import { LiveEvents } from './core/events/live-events';
import { ConnectionIndicator } from './core/ui/connection-indicator';

interface NavLink {
  path: string;
  label: string;
  icon: string;
  exact: boolean;
}

/** The shell: navigation, the live connection's state, and the page. */
@Component({
  selector: 'app-root',
  imports: [
    RouterOutlet, RouterLink, RouterLinkActive, MatToolbarModule, MatSidenavModule, MatListModule, MatIconModule,
    MatButtonModule, ConnectionIndicator,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <mat-toolbar class="app-toolbar">
      <a class="brand" routerLink="/" data-testid="brand">
        <mat-icon>hub</mat-icon>
        <span>Conclave</span>
      </a>
      <span class="spacer"></span>
      <app-connection-indicator [state]="live.state()" />
    </mat-toolbar>
    <mat-sidenav-container class="app-body">
      <mat-sidenav mode="side" opened class="app-nav">
        <mat-nav-list data-testid="main-nav">
          @for (link of links; track link.path) {
            <a
              mat-list-item
              [routerLink]="link.path"
              routerLinkActive
              #active="routerLinkActive"
              [routerLinkActiveOptions]="{ exact: link.exact }"
              [activated]="active.isActive"
              [attr.data-testid]="'nav-' + link.label.toLowerCase()"
            >
              <mat-icon matListItemIcon>{{ link.icon }}</mat-icon>
              <span matListItemTitle>{{ link.label }}</span>
            </a>
          }
        </mat-nav-list>
      </mat-sidenav>
      <mat-sidenav-content>
        <main class="page">
          <router-outlet />
        </main>
      </mat-sidenav-content>
    </mat-sidenav-container>
  `,
  styles: `
    :host {
      display: flex;
      flex-direction: column;
      height: 100vh;
    }
    .app-toolbar {
      border-bottom: 1px solid var(--mat-sys-outline-variant);
      flex: 0 0 auto;
    }
    .brand {
      display: inline-flex;
      align-items: center;
      gap: 8px;
      color: inherit;
      text-decoration: none;
      font-weight: 500;
    }
    .spacer {
      flex: 1;
    }
    .app-body {
      flex: 1;
    }
    .app-nav {
      width: 200px;
      border-right: 1px solid var(--mat-sys-outline-variant);
    }
    .page {
      padding: 16px 24px 48px;
      max-width: 1280px;
    }
  `,
})
export class App implements OnInit, OnDestroy {
  protected readonly live = inject(LiveEvents);
  protected readonly links: NavLink[] = [
    { path: '/', label: 'Dashboard', icon: 'dashboard', exact: true },
    { path: '/projects', label: 'Projects', icon: 'folder', exact: false },
    { path: '/agents', label: 'Agents', icon: 'smart_toy', exact: false },
    { path: '/workflows', label: 'Workflows', icon: 'account_tree', exact: false },
  ];

  ngOnInit(): void {
    this.live.start();
  }

  ngOnDestroy(): void {
    this.live.stop();
  }
}
