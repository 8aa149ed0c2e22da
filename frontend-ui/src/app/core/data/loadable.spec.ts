import { HttpErrorResponse } from '@angular/common/http';
import { Subject, of, throwError } from 'rxjs';

import { Loadable } from './loadable';

describe('Loadable', () => {
  it('loads a value and tells loading and loaded apart', () => {
    const data = new Loadable<number>();
    const source = new Subject<number>();
    data.load(() => source);
    expect(data.loading()).toBeTrue();
    expect(data.loaded()).toBeFalse();
    source.next(3);
    source.complete();
    expect(data.value()).toBe(3);
    expect(data.loading()).toBeFalse();
    expect(data.loaded()).toBeTrue();
  });

  it("keeps the API's error message", () => {
    const data = new Loadable<number>();
    data.load(() => throwError(() => new HttpErrorResponse({ status: 404, error: { detail: 'Project p not found' } })));
    expect(data.error()).toBe('Project p not found');
    expect(data.errorStatus()).toBe(404);
    expect(data.loading()).toBeFalse();
  });

  it('refreshes quietly: the old value stays until the new one', () => {
    const data = new Loadable<number>();
    let calls = 0;
    const next = new Subject<number>();
    data.load(() => (calls++ === 0 ? of(1) : next));
    expect(data.value()).toBe(1);
    data.refresh();
    expect(data.loading()).toBeFalse();
    expect(data.value()).toBe(1);
    next.next(2);
    expect(data.value()).toBe(2);
  });

  it('drops an earlier request when a new one starts', () => {
    const data = new Loadable<string>();
    const slow = new Subject<string>();
    data.load(() => slow);
    data.load(() => of('fast'));
    slow.next('slow');
    expect(data.value()).toBe('fast');
  });
});
