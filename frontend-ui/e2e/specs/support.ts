import { Page, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SCREENSHOTS = path.resolve(process.env['E2E_OUTPUT_DIR'] ?? 'test-results', 'screenshots');
let shots = 0;

/** A full-page screenshot kept as a test artifact: `<E2E_OUTPUT_DIR>/screenshots/<nn>-<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  shots += 1;
  const file = path.join(SCREENSHOTS, `${String(shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

/** Picks `option` in the Material select carrying `testId` (the options open in an overlay). */
export async function choose(page: Page, testId: string, option: string | RegExp): Promise<void> {
  await page.getByTestId(testId).click();
  await page.getByRole('option', { name: option }).click();
  await expect(page.getByRole('listbox')).toBeHidden();
}

/** Marks the loaded document, so a test can show later that what it saw arrived without a reload. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as Record<string, unknown>)['__e2eNoReload'] = true));
}

export async function expectNoReloadSinceMark(page: Page): Promise<void> {
  const marked = await page.evaluate(() => (window as unknown as Record<string, unknown>)['__e2eNoReload'] === true);
  expect(marked, 'the page was not reloaded since it was marked').toBe(true);
}

/** The id in a workflow page's address (`/workflows/<id>`). */
export function workflowIdFrom(url: string): string {
  const match = /\/workflows\/([0-9a-f-]{36})/.exec(url);
  if (!match) {
    throw new Error(`not a workflow page: ${url}`);
  }
  return match[1];
}
