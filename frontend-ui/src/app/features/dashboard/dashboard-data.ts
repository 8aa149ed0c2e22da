import { Observable, forkJoin, map, mergeMap, of, from, reduce, switchMap } from 'rxjs';

import { ApiClient } from '../../core/api/api-client';
import {
  AGENT_STATUSES, Decision, PROJECT_STATUSES, Page, Variant, WORKFLOW_STATUSES, Workflow,
} from '../../core/api/models';

export interface Counts {
  projects: { total: number; byStatus: Record<string, number> };
  agents: { total: number; byStatus: Record<string, number> };
  workflows: { total: number; byStatus: Record<string, number> };
}

export interface RecentDecision {
  decision: Decision;
  chosen: string;
  workflow: Workflow;
}

export interface TokensToday {
  prompt: number;
  completion: number;
  runs: number;
  /** Some run had more messages today than were read (the most recent 500 per run are): the figure is a floor. */
  partial: boolean;
}

const total = (page: Observable<Page<unknown>>) => page.pipe(map((p) => p.total));

/** Totals per status, each from a list's `total` (one row asked for): exact, however many rows there are. */
export function loadCounts(api: ApiClient): Observable<Counts> {
  const byStatus = <S extends string>(statuses: S[], count: (status: S) => Observable<number>) =>
    forkJoin(Object.fromEntries(statuses.map((s) => [s, count(s)])) as Record<S, Observable<number>>);
  return forkJoin({
    projects: forkJoin({
      total: total(api.projects({ limit: 1 })),
      byStatus: byStatus(PROJECT_STATUSES, (status) => total(api.projects({ status, limit: 1 }))),
    }),
    agents: forkJoin({
      total: total(api.agents({ limit: 1 })),
      byStatus: byStatus(AGENT_STATUSES, (status) => total(api.agents({ status, limit: 1 }))),
    }),
    workflows: forkJoin({
      total: total(api.workflows({ limit: 1 })),
      byStatus: byStatus(WORKFLOW_STATUSES, (status) => total(api.workflows({ status, limit: 1 }))),
    }),
  });
}

/** Runs going now (running, paused, pending), newest first. */
export function loadActiveRuns(api: ApiClient): Observable<Workflow[]> {
  return forkJoin(
    (['running', 'paused', 'pending'] as const).map((status) => api.workflows({ status, limit: 20 })),
  ).pipe(
    map((pages) =>
      pages
        .flatMap((p) => p.items)
        .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? '')),
    ),
  );
}

/** The latest decisions of the most recent runs (the API lists decisions per run only). */
export function loadRecentDecisions(api: ApiClient, runs = 10, shown = 8): Observable<RecentDecision[]> {
  return api.workflows({ limit: runs }).pipe(
    switchMap((page) => {
      if (!page.items.length) {
        return of([] as RecentDecision[][]);
      }
      return forkJoin(
        page.items.map((workflow) =>
          api.decisions(workflow.workflow_id, { limit: 500 }).pipe(
            map((decisions) =>
              decisions.items.map((decision) => ({
                decision,
                workflow,
                chosen:
                  ((decision.variants ?? []) as Variant[]).find((v) => v.id === decision.chosen_variant_id)?.title ??
                  decision.chosen_variant_id ??
                  '',
              })),
            ),
          ),
        ),
      );
    }),
    map((lists) =>
      lists
        .flat()
        .sort((a, b) => (b.decision.created_at ?? '').localeCompare(a.decision.created_at ?? ''))
        .slice(0, shown),
    ),
  );
}

/** Midnight, local time, of the day `now` is in. */
export function startOfDay(now: Date): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate());
}

/**
 * Tokens of the model calls whose messages were written today (local time). The API has no usage endpoint: this
 * reads the messages of the runs changed today (at most `maxRuns`, the most recent 500 messages of each) and adds
 * up their prompt and completion tokens.
 */
export function loadTokensToday(api: ApiClient, now = new Date(), maxRuns = 20): Observable<TokensToday> {
  const since = startOfDay(now).getTime();
  const today = (iso: string | null | undefined) => !!iso && new Date(iso).getTime() >= since;
  const empty: TokensToday = { prompt: 0, completion: 0, runs: 0, partial: false };
  return api.workflows({ limit: 200 }).pipe(
    map((page) => page.items.filter((w) => today(w.updated_at) || today(w.created_at)).slice(0, maxRuns)),
    switchMap((runs) =>
      from(runs).pipe(
        mergeMap(
          (run) =>
            api.messages(run.workflow_id, { limit: 1 }).pipe(
              switchMap((first) =>
                api.messages(run.workflow_id, { skip: Math.max(0, first.total - 500), limit: 500 }),
              ),
            ),
          4,
        ),
        reduce((sum, page) => {
          const todays = page.items.filter((m) => today(m.created_at));
          return {
            prompt: sum.prompt + todays.reduce((n, m) => n + (m.prompt_tokens ?? 0), 0),
            completion: sum.completion + todays.reduce((n, m) => n + (m.completion_tokens ?? 0), 0),
            runs: sum.runs + 1,
            partial: sum.partial || (page.total > 500 && todays.length === page.items.length),
          };
        }, empty),
      ),
    ),
  );
}
