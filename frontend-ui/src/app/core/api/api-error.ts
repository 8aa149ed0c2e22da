import { HttpErrorResponse } from '@angular/common/http';

interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
}

/** Where a 422 points: `body.name` → `name`, `query.limit` → `limit`. */
function field(loc: (string | number)[] | undefined): string {
  const parts = (loc ?? []).filter((part, i) => !(i === 0 && ['body', 'query', 'path', 'header'].includes(`${part}`)));
  return parts.join('.');
}

/** The API's `detail` in words: a string as it is, a 422 list as "field: message" lines. */
export function describeDetail(detail: unknown): string | null {
  if (typeof detail === 'string') {
    return detail;
  }
  if (Array.isArray(detail)) {
    const lines = detail.map((item: ValidationItem) => {
      const where = field(item?.loc);
      const what = item?.msg ?? JSON.stringify(item);
      return where ? `${where}: ${what}` : what;
    });
    return lines.length ? lines.join('\n') : null;
  }
  return null;
}

/** A readable message for any failed request: the API's own words when it sent `{"detail": ...}`. */
export function apiErrorMessage(error: unknown): string {
  if (error instanceof HttpErrorResponse) {
    if (error.status === 0) {
      return 'The API cannot be reached: check that it is running (make up) and the network.';
    }
    let body: unknown = error.error;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // a plain-text body (a proxy's error page): fall through to the status line
      }
    }
    const detail = body && typeof body === 'object' ? describeDetail((body as { detail?: unknown }).detail) : null;
    if (detail) {
      return detail;
    }
    return `${error.status} ${error.statusText || 'error'} from ${error.url ?? 'the API'}`;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** The status of a failed request (0 when the API was not reached), or null for other errors. */
export function apiErrorStatus(error: unknown): number | null {
  return error instanceof HttpErrorResponse ? error.status : null;
}
