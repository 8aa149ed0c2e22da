import { HttpErrorResponse } from '@angular/common/http';

import { apiErrorMessage, apiErrorStatus, describeDetail } from './api-error';

describe('apiErrorMessage', () => {
  const response = (status: number, error: unknown, statusText = 'Error') =>
    new HttpErrorResponse({ status, statusText, error, url: '/api/x' });

  it("gives the API's own detail", () => {
    expect(apiErrorMessage(response(404, { detail: 'Workflow 1 not found' }))).toBe('Workflow 1 not found');
    expect(apiErrorMessage(response(409, { detail: 'Workflow 1 is completed: only a running or paused run can be cancelled' })))
      .toContain('only a running or paused run');
    expect(apiErrorMessage(response(413, { detail: 'Request body too large: the limit is 1048576 bytes.' })))
      .toContain('too large');
  });

  it('lists the fields of a 422', () => {
    const detail = [
      { type: 'missing', loc: ['body', 'name'], msg: 'Field required' },
      { type: 'value_error', loc: ['body', 'options', 'code', 'rounds'], msg: 'Input should be less than or equal to 6' },
      { type: 'value_error', loc: ['body'], msg: 'Value error, jira_project_key is required' },
    ];
    expect(apiErrorMessage(response(422, { detail }))).toBe(
      'name: Field required\noptions.code.rounds: Input should be less than or equal to 6\n' +
        'Value error, jira_project_key is required',
    );
  });

  it('reads a detail sent as text (a text request)', () => {
    expect(apiErrorMessage(response(404, '{"detail":"Artifact a not found in workflow w"}'))).toBe(
      'Artifact a not found in workflow w',
    );
  });

  it('says when the API cannot be reached', () => {
    expect(apiErrorMessage(response(0, new ProgressEvent('error')))).toContain('cannot be reached');
  });

  it('falls back to the status line for a body without detail', () => {
    expect(apiErrorMessage(response(502, '<html>Bad gateway</html>', 'Bad Gateway'))).toBe(
      '502 Bad Gateway from /api/x',
    );
  });

  it('handles errors that are not HTTP errors', () => {
    expect(apiErrorMessage(new Error('boom'))).toBe('boom');
    expect(apiErrorMessage('plain')).toBe('plain');
    expect(apiErrorStatus(new Error('x'))).toBeNull();
    expect(apiErrorStatus(response(409, {}))).toBe(409);
  });

  it('describes only what it understands', () => {
    expect(describeDetail(undefined)).toBeNull();
    expect(describeDetail([])).toBeNull();
    expect(describeDetail({ odd: true })).toBeNull();
  });
});
