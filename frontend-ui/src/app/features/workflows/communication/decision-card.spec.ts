import { HttpTestingController } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { Decision } from '../../../core/api/models';
import { byTestId, testProviders } from '../../../../testing/providers';
import { DecisionCard } from './decision-card';

const decision: Decision = {
  decision_id: 'd1',
  workflow_id: 'w1',
  problem: 'How to store sessions?',
  description: 'Pick a store',
  variants: [
    { id: 'A', title: 'Cookies', description: 'Signed cookies' },
    { id: 'B', title: 'Redis', description: 'A shared store' },
  ],
  chosen_variant_id: 'A',
  votes: [
    { agent_name: 'Ada', agent_role: 'architect', variant_id: 'A', reason: 'simplest' },
    { agent_name: 'Dev', agent_role: 'developer', variant_id: 'A', reason: 'no new service' },
    { agent_name: 'Rev', agent_role: 'reviewer', variant_id: 'B', reason: 'scales' },
  ],
  justification: 'Two of three chose cookies.',
  responsible_agents: null,
  discussion_thread_id: null,
  uncontested: false,
  created_at: '2026-01-01T10:00:00Z',
};

describe('DecisionCard', () => {
  async function render(awaiting: boolean, shown: Decision = decision) {
    TestBed.configureTestingModule({ providers: testProviders() });
    const fixture = TestBed.createComponent(DecisionCard);
    fixture.componentRef.setInput('decision', shown);
    fixture.componentRef.setInput('workflowId', 'w1');
    fixture.componentRef.setInput('awaiting', awaiting);
    await fixture.whenStable();
    return fixture;
  }

  it('shows the variants with their votes, the choice and the justification', async () => {
    const fixture = await render(false);
    const root: HTMLElement = fixture.nativeElement;
    expect(byTestId(root, 'variant-A').textContent).toContain('Cookies');
    expect(byTestId(root, 'variant-A').textContent).toContain('2 vote(s)');
    expect(byTestId(root, 'variant-A').textContent).toContain('chosen');
    expect(byTestId(root, 'variant-B').textContent).toContain('1 vote(s)');
    expect(byTestId(root, 'decision-votes').textContent).toContain('Rev');
    expect(byTestId(root, 'decision-votes').textContent).toContain('scales');
    expect(byTestId(root, 'decision-justification').textContent).toContain('Two of three');
    expect(root.querySelector('[data-testid="decision-approval"]')).toBeNull();
  });

  it('says when a decision was uncontested, without a vote count', async () => {
    const single: Decision = {
      ...decision,
      variants: [{ id: 'A', title: 'Cookies', description: '' }],
      votes: [],
      uncontested: true,
      justification: "Uncontested: the lead's options repeated one another.",
    };
    const root: HTMLElement = (await render(false, single)).nativeElement;
    expect(byTestId(root, 'decision-uncontested').textContent).toContain('not put to a vote');
    expect(byTestId(root, 'variant-A').textContent).not.toContain('vote(s)');
    expect(root.querySelector('[data-testid="decision-votes"]')).toBeNull();
    expect(byTestId(root, 'decision-justification').textContent).toContain('Uncontested');
  });

  it('approves when the run waits for a person', async () => {
    const fixture = await render(true);
    const http = TestBed.inject(HttpTestingController);
    const answers: string[] = [];
    fixture.componentInstance.answered.subscribe((note) => answers.push(note));

    byTestId(fixture.nativeElement, 'approve-button').click();
    const request = http.expectOne('/api/workflows/w1/decisions/d1/approval');
    expect(request.request.body).toEqual({ action: 'approve', variant_id: null, comment: '' });
    request.flush({});
    expect(answers.length).toBe(1);
    http.verify();
  });

  it("shows the API's refusal", async () => {
    const fixture = await render(true);
    const http = TestBed.inject(HttpTestingController);
    byTestId(fixture.nativeElement, 'approve-button').click();
    http
      .expectOne('/api/workflows/w1/decisions/d1/approval')
      .flush({ detail: 'Workflow w1 is not waiting for an approval of decision d1' }, { status: 409, statusText: 'Conflict' });
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement, 'error-message').textContent).toContain('not waiting for an approval');
  });

  it('overrides with another variant', async () => {
    const fixture = await render(true);
    const http = TestBed.inject(HttpTestingController);
    const override = byTestId<HTMLButtonElement>(fixture.nativeElement, 'override-button');
    expect(override.disabled).toBeTrue();
    (fixture.componentInstance as unknown as { overrideWith: { set(v: string): void } }).overrideWith.set('B');
    await fixture.whenStable();
    expect(override.disabled).toBeFalse();
    override.click();
    const request = http.expectOne('/api/workflows/w1/decisions/d1/approval');
    expect(request.request.body).toEqual({ action: 'override', variant_id: 'B', comment: '' });
    request.flush({});
  });
});
