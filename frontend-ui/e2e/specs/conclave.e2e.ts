import { Page, expect, test } from '@playwright/test';

import { choose, expectNoReloadSinceMark, markDocument, screenshot, workflowIdFrom } from './support';

/**
 * What a person does with Conclave, in order, on a real stack (the scripted model answers, slowly enough to watch):
 * a project through the wizard, agents from role templates, a feature-development run watched live, a message to its
 * agents, the decision and its votes, and a second run cancelled and resumed. Each step reads what the page shows.
 */
test.describe.configure({ mode: 'serial' });

const suffix = Date.now().toString(36);
const PROJECT = `Slugs ${suffix}`;
const REQUIREMENT =
  'Add slugify(text) to the utils module: lowercase, words joined by hyphens, punctuation dropped.';
const NOTE = `Please keep non-ASCII letters: transliterate them (${suffix}).`;

let projectUrl = '';
let firstRunUrl = '';

/** Statuses as the page prints them. */
const RUNNING = 'Running';

/** On the new-workflow page: a feature-development run of our project; `approve` names decisions that wait for a
 * person. Ends on the new run's page. */
async function startFeatureRun(page: Page, name: string, projectPreselected: boolean, approve: string[] = []): Promise<void> {
  await page.getByTestId('workflow-template-feature_development').click();
  await expect(page.getByTestId('workflow-form')).toBeVisible();
  if (!projectPreselected) {
    await choose(page, 'workflow-project', PROJECT);
  }
  await expect(page.getByTestId('workflow-project')).toContainText(PROJECT);
  await expect(page.getByTestId('missing-roles-warning')).toHaveCount(0);
  await page.getByTestId('workflow-name').fill(name);
  await page.getByTestId('workflow-requirement').fill(REQUIREMENT);
  await choose(page, 'workflow-priority', 'High');
  await page.getByTestId('workflow-tag-input').fill('e2e');
  await page.getByTestId('workflow-tag-input').press('Enter');
  await expect(page.getByTestId('workflow-tags')).toContainText('e2e');
  if (approve.length) {
    await page.getByTestId('workflow-approval-decisions').click();
    for (const decision of approve) {
      await page.getByRole('option', { name: decision }).click();
    }
    await page.keyboard.press('Escape');
    await expect(page.getByRole('listbox')).toBeHidden();
    await expect(page.getByTestId('workflow-approval-decisions')).toContainText(approve[0]);
  }
  await screenshot(page, `workflow-create-${name.toLowerCase().replace(/\W+/g, '-')}`);
  await page.getByTestId('workflow-create').click();
  await expect(page).toHaveURL(/\/workflows\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('workflow-title')).toHaveText(name);
}

/** The number the communication stats print before `label` ("12 messages"). */
async function figure(page: Page, label: string): Promise<number> {
  const text = (await page.getByTestId('communication-stats').textContent()) ?? '';
  const match = new RegExp(`([\\d,]+)\\s+${label}`).exec(text);
  return match ? Number(match[1].replace(/,/g, '')) : 0;
}

test('the dashboard and an empty project list greet a new user', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByTestId('dashboard-counts')).toBeVisible();
  await expect(page.getByTestId('connection-indicator')).toContainText('Live');
  await screenshot(page, 'dashboard-empty');
  await page.getByTestId('nav-projects').click();
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await expect(page.getByText('No projects yet: create the first one.')).toBeVisible();
  await screenshot(page, 'projects-empty');
});

test('create a project through the wizard', async ({ page }) => {
  await page.goto('/projects');
  await page.getByTestId('new-project-button').click();
  await expect(page.getByRole('heading', { name: 'New project' })).toBeVisible();

  // Basics: a name is needed before the next step.
  await page.getByTestId('project-name').fill(PROJECT);
  await page.getByTestId('project-description').fill('A slug helper, built by the team from a one-line request.');
  await choose(page, 'project-type', 'Library');
  await choose(page, 'project-status', 'Active');
  await screenshot(page, 'project-wizard-basics');
  await page.getByTestId('wizard-next-basics').click();

  // Repository.
  await page.getByTestId('project-repository-url').fill('https://git.example.com/team/slugs.git');
  await page.getByTestId('project-branch').fill('main');
  await screenshot(page, 'project-wizard-repository');
  await page.getByTestId('wizard-next-repository').click();

  // Jira & Confluence stay off.
  await expect(page.getByTestId('project-jira-enabled')).toBeVisible();
  await screenshot(page, 'project-wizard-integrations');
  await page.getByTestId('wizard-next-integrations').click();

  // Agents: new ones from role templates. The reviewer comes later, from the agent page.
  const templates = page.getByTestId('wizard-agent-templates');
  await expect(templates).toContainText('Product owner');
  await page.getByTestId('wizard-role-reviewer').locator('input[type=checkbox]').uncheck();
  await page.getByTestId('wizard-role-name-developer').fill('Dana Developer');
  await expect(page.getByText('4 new agent(s), 0 existing agent(s)')).toBeVisible();
  await screenshot(page, 'project-wizard-agents');
  await page.getByTestId('wizard-create').click();

  await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}$/);
  projectUrl = page.url();
  await expect(page.getByTestId('project-title')).toHaveText(PROJECT);
  await expect(page.getByText('https://git.example.com/team/slugs.git (main)')).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Agents (4)' })).toBeVisible();
  const agents = page.getByTestId('project-agent-list');
  for (const name of ['Product Owner', 'Architect', 'Dana Developer', 'Tester']) {
    await expect(agents.getByRole('link', { name, exact: true })).toBeVisible();
  }
  await screenshot(page, 'project-detail');

  // The list finds it by name.
  await page.getByTestId('nav-projects').click();
  await page.getByTestId('project-search').fill(suffix);
  await expect(page.getByTestId('project-list')).toContainText(PROJECT);
  await screenshot(page, 'projects-list');
});

test('create agents from role templates', async ({ page }) => {
  // From the project's page: a reviewer, configured before it is created.
  await page.goto(projectUrl);
  await page.getByTestId('project-add-agent').click();
  await expect(page).toHaveURL(/\/agents\/new\?project=/);
  await page.getByTestId('agent-template-reviewer').click();
  await expect(page.getByTestId('agent-name')).toHaveValue('Reviewer');
  await expect(page.getByTestId('agent-system-prompt')).not.toHaveValue('');
  // The model field names the model map's model for the role and what serves it (here the scripted model).
  await expect(page.getByTestId('agent-model-hint')).toContainText('Model map: reviewer →');
  await expect(page.getByTestId('agent-model-hint')).toContainText('scripted replies');
  await page.getByTestId('agent-name').fill('Rita Reviewer');
  await page.getByTestId('agent-temperature').fill('0.1');
  await page.getByTestId('agent-max-tokens').fill('512');
  await screenshot(page, 'agent-create-reviewer');
  await page.getByTestId('agent-create').click();
  await expect(page).toHaveURL(projectUrl);
  await expect(page.getByTestId('project-agent-list').getByRole('link', { name: 'Rita Reviewer' })).toBeVisible();

  // From the agents page: a technical writer, put in the project with the project picker.
  await page.getByTestId('nav-agents').click();
  await expect(page.getByRole('heading', { name: 'Agents' })).toBeVisible();
  await page.getByTestId('new-agent-button').click();
  await page.getByTestId('agent-template-tech_writer').click();
  await expect(page.getByTestId('agent-name')).toHaveValue('Technical Writer');
  await page.getByTestId('agent-name').fill('Tom Writer');
  await choose(page, 'agent-project', PROJECT);
  await screenshot(page, 'agent-create-writer');
  await page.getByTestId('agent-create').click();
  await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('agent-name')).toHaveValue('Tom Writer');
  await screenshot(page, 'agent-edit');

  // The agents list shows all six, filtered to this project.
  await page.getByTestId('nav-agents').click();
  await choose(page, 'agent-project-filter', PROJECT);
  const list = page.getByTestId('agent-list');
  for (const name of ['Product Owner', 'Architect', 'Dana Developer', 'Tester', 'Rita Reviewer', 'Tom Writer']) {
    await expect(list).toContainText(name);
  }
  await screenshot(page, 'agents-list');

  await page.goto(projectUrl);
  await expect(page.getByRole('tab', { name: 'Agents (6)' })).toBeVisible();
});

test('start a feature-development run, watch it live, see the decision with its votes, send a message', async ({
  page,
}) => {
  await page.goto(projectUrl);
  await page.getByTestId('project-start-workflow').click();
  await expect(page).toHaveURL(/\/workflows\/new\?project=/);
  // The design decision waits for a person: the run stops there until we answer, however fast the model is.
  await startFeatureRun(page, 'Slugify', true, ['Design decision']);
  firstRunUrl = page.url();
  await markDocument(page);

  // Live: the run starts, its steps and progress move on while the page stays as it is.
  await expect(page.getByTestId('workflow-status')).toHaveText(RUNNING);
  await expect(page.getByTestId('run-connection-indicator')).toContainText('Live');
  await expect(page.getByTestId('step-requirements')).toContainText('User stories');
  const progress = page.getByTestId('workflow-progress');
  const firstProgress = Number(await progress.getAttribute('data-progress'));
  expect(firstProgress).toBeLessThan(100);
  await expect(page.getByTestId('step-requirements')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect
    .poll(async () => Number(await progress.getAttribute('data-progress')), { timeout: 60_000 })
    .toBeGreaterThan(firstProgress);
  await screenshot(page, 'workflow-running-overview');

  // The team decided; the run waits for a person, and the page says so by itself.
  await expect(page.getByTestId('awaiting-approval')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('workflow-status')).toHaveText('Paused');
  await expect(page.getByTestId('step-design')).toHaveAttribute('data-status', 'waiting_for_approval');
  await screenshot(page, 'workflow-awaiting-approval');
  await page.getByTestId('show-decision-button').click();

  // The decision: its variants, each voter's vote and reason, the team's choice and why.
  const decision = page.getByTestId('decision-list').locator('[data-kind="decision"]').first();
  await expect(decision).toContainText('How should the requirement be implemented');
  await expect(decision).toContainText('chosen');
  const votes = decision.getByTestId('decision-votes');
  await expect(votes.locator('li')).toHaveCount(3);
  for (const voter of ['Architect', 'Dana Developer', 'Rita Reviewer']) {
    await expect(votes).toContainText(voter);
  }
  await expect(decision.getByTestId('decision-justification')).not.toBeEmpty();
  await expect(decision.getByTestId('decision-approval')).toBeVisible();

  // The conversation so far, in threads.
  const conversation = page.getByTestId('thread-list');
  await expect(conversation).toContainText('Product Owner');
  await expect(conversation).toContainText('Decision needed');
  const before = await figure(page, 'messages');
  expect(before).toBeGreaterThan(1);
  expect(await figure(page, 'decisions')).toBe(1);

  // A person writes to the agents while the run waits.
  await expect(page.getByTestId('message-input')).toBeEnabled();
  await page.getByTestId('message-input').fill(NOTE);
  await page.getByTestId('send-message-button').click();
  await expect(page.getByText('Message sent: the next agent turn reads it.')).toBeVisible();
  await expect(conversation.locator('article.message.human')).toContainText(NOTE);
  await decision.scrollIntoViewIfNeeded();
  await screenshot(page, 'workflow-decision-votes');

  // Approving lets the run go on: new messages and the end of the run arrive on the open page.
  await decision.getByTestId('approve-button').click();
  await expect(page.getByTestId('awaiting-approval')).toHaveCount(0, { timeout: 30_000 });
  await expect(decision.getByTestId('decision-approval')).toHaveCount(0);
  await expect.poll(() => figure(page, 'messages'), { timeout: 60_000 }).toBeGreaterThan(before + 1);
  await screenshot(page, 'workflow-communication-live');
  await expect(page.getByTestId('workflow-status')).toHaveText('Completed', { timeout: 150_000 });
  await expectNoReloadSinceMark(page);
  await expect(page.getByTestId('message-input')).toBeDisabled();
  await screenshot(page, 'workflow-communication-completed');

  // Overview at the end: every step done, 100 %.
  await page.getByRole('tab', { name: 'Overview' }).click();
  await expect(progress).toHaveAttribute('data-progress', '100');
  for (const step of ['requirements', 'design', 'implementation', 'tests', 'verification', 'documentation']) {
    await expect(page.getByTestId(`step-${step}`)).toHaveAttribute('data-status', 'completed');
  }
  await expect(page.getByTestId('workflow-requirement-text')).toHaveText(REQUIREMENT);
  await screenshot(page, 'workflow-completed-overview');

  // The files the agents wrote: listed, viewed, downloaded.
  await page.getByRole('tab', { name: 'Artifacts' }).click();
  const report = page.getByTestId('artifact-list').getByRole('row', { name: /reports\/test-report\.md/ });
  await report.getByRole('button', { name: 'View' }).click();
  await expect(page.getByTestId('artifact-viewer')).toContainText('reports/test-report.md');
  await expect(page.getByTestId('artifact-text')).not.toBeEmpty();
  await screenshot(page, 'workflow-artifacts');
  const download = page.waitForEvent('download');
  await report.getByRole('link', { name: /Download/ }).click();
  expect((await download).suggestedFilename()).toContain('test-report.md');
});

test('cancel a second run and resume it', async ({ page }) => {
  await page.goto('/workflows');
  await page.getByTestId('new-workflow-button').click();
  await startFeatureRun(page, 'Slugify again', false);
  const workflowId = workflowIdFrom(page.url());
  await markDocument(page);

  await expect(page.getByTestId('workflow-status')).toHaveText(RUNNING);
  await expect(page.getByTestId('resume-button')).toBeDisabled();
  // Cancel once the stories are written, while the team is deciding the design.
  await expect(page.getByTestId('step-requirements')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await page.getByTestId('cancel-button').click();
  await expect(page.getByText('Cancel requested: the run stops within seconds.')).toBeVisible();
  await expect(page.getByTestId('workflow-status')).toHaveText('Cancelled', { timeout: 30_000 });
  await expect(page.getByTestId('cancel-button')).toBeDisabled();
  await expect(page.getByTestId('resume-button')).toBeEnabled();
  // The stories stay done, the step cut off (if one was under way) says so, the last step never started.
  await expect(page.getByTestId('step-requirements')).toHaveAttribute('data-status', 'completed');
  expect(await page.getByTestId('step-list').locator('li[data-status="cancelled"]').count()).toBeLessThanOrEqual(1);
  await expect(page.getByTestId('step-documentation')).toHaveAttribute('data-status', 'pending');
  await screenshot(page, 'workflow-cancelled');

  await page.getByTestId('resume-button').click();
  await expect(page.getByText('Resumed after its last finished step.')).toBeVisible();
  await expect(page.getByText('Resumed 1 time(s)')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('cancel-button')).toBeEnabled();
  await screenshot(page, 'workflow-resumed');
  await expect(page.getByTestId('workflow-status')).toHaveText('Completed', { timeout: 150_000 });
  await expect(page.getByTestId('workflow-progress')).toHaveAttribute('data-progress', '100');
  await expect(page.getByTestId('resume-button')).toBeDisabled();
  await expectNoReloadSinceMark(page);
  await screenshot(page, 'workflow-resumed-completed');

  // The stories written before the cancel were not written again: the product owner spoke once.
  await page.getByRole('tab', { name: 'Communication' }).click();
  await choose(page, 'message-agent-filter', 'Product Owner');
  await expect(page.getByTestId('message-list').locator('[data-kind="message"]')).toHaveCount(1);

  // Both runs are in the list, done.
  await page.getByTestId('nav-workflows').click();
  await expect(page.getByTestId(`workflow-row-${workflowId}`)).toContainText('Completed');
  await expect(page.getByTestId(`workflow-row-${workflowIdFrom(firstRunUrl)}`)).toContainText('Completed');
  await screenshot(page, 'workflows-list');
});

test('the dashboard sums it up', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('count-projects').getByRole('link')).toHaveText(/^\s*1 projects\s*$/i);
  await expect(page.getByTestId('count-agents').getByRole('link')).toHaveText(/^\s*6 agents\s*$/i);
  await expect(page.getByTestId('count-workflows').getByRole('link')).toHaveText(/^\s*2 workflows\s*$/i);
  await expect(page.getByTestId('count-workflows-completed')).toContainText('2');
  await expect(page.getByText('No run is going right now.')).toBeVisible();
  const decisions = page.getByTestId('dashboard-decisions');
  await expect(decisions.locator('li')).toHaveCount(2);
  await expect(decisions).toContainText('3 vote(s)');
  await expect(decisions.getByRole('link', { name: 'Slugify again' })).toBeVisible();
  await expect(page.getByTestId('tokens-today-total')).toHaveText(/^\s*[1-9][\d,]*\s*$/);
  await expect(page.getByTestId('dashboard-health')).toContainText('Worker');
  const models = page.getByTestId('model-services');
  await expect(models.getByTestId('model-service-row')).toHaveCount(1);
  await expect(models.getByTestId('model-service-row')).toContainText('scripted');
  await screenshot(page, 'dashboard');
});
