import { defineConfig } from '@playwright/test';
import * as path from 'node:path';

/**
 * Browser end-to-end tests of the web UI, run by tests/ui/test_e2e.py against a stack it started (PostgreSQL,
 * S3, Temporal, a worker with the scripted model, the API serving the built UI).
 *
 * E2E_BASE_URL   where that API serves the UI (required)
 * E2E_OUTPUT_DIR where screenshots (one per page, `<nn>-<page>.png`), traces and failure shots go
 * CHROMIUM_PATH  the browser (default Debian's /usr/bin/chromium; Playwright never downloads one here)
 */
const baseURL = process.env['E2E_BASE_URL'];
if (!baseURL) {
  throw new Error('E2E_BASE_URL is not set: run the browser tests through tests/ui/test_e2e.py (pytest)');
}
const outputDir = path.resolve(process.env['E2E_OUTPUT_DIR'] ?? 'test-results');

export default defineConfig({
  testDir: './specs',
  testMatch: '**/*.e2e.ts',
  // The specs are one story (a project, its agents, its runs) told in order, on one small shared machine.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  timeout: 240_000, // per spec: a run of the scripted team takes 10-40 s, more on a loaded machine
  expect: { timeout: 20_000 },
  outputDir: path.join(outputDir, 'playwright'),
  reporter: [['list'], ['json', { outputFile: path.join(outputDir, 'results.json') }]],
  use: {
    baseURL,
    headless: true,
    viewport: { width: 1440, height: 1100 },
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env['CHROMIUM_PATH'] || '/usr/bin/chromium',
      // No sandbox (root), no GPU, no /dev/shm; and none of Chromium's own calls home on a closed network.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
