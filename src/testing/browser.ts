/**
 * Real-browser tests: Debian's chromium driven by playwright-core (never a downloaded browser), against a real
 * `medallion serve` process on a project of its own. Any console error or failed request of the page fails the test
 * that owns the page (see `expectCleanPage`). `.ci/run` installs chromium; without it the suites skip (a failure under
 * CI=true).
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { CHROMIUM } from './chromium.js';

export { CHROMIUM, launchBrowser, type Browser } from './chromium.js';
export { PASSWORD, serveProject, signIn, type ServedProject } from './served-project.js';

/** Whether the browser suites can run here; under CI a missing chromium fails instead. */
export function skipWithoutChromium(): boolean {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: \`apt-get install -y chromium\``);
  console.warn(`skipped: no chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  return true;
}

/** What went wrong on a page: console errors, uncaught exceptions, failed or 5xx requests. */
export function watchPage(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A stream the page closes on purpose (leaving a run page) is not a failure.
    if (request.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(
      `request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`,
    );
  });
  page.on('response', (response) => {
    if (response.status() >= 500)
      problems.push(`${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return { problems };
}

export function expectCleanPage(watched: { problems: string[] }): void {
  expect(watched.problems).toEqual([]);
}

/** On a table's page: opens Compare versions, picks `from` and `to`, and waits for the summary `expected` says. */
export async function compareVersions(page: Page, from: number, to: number, expected: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Table views' })
    .getByRole('link', { name: 'Compare versions' })
    .click();
  await page.getByLabel('From version').selectOption(String(from));
  await page.getByLabel('To version').selectOption(String(to));
  await page.getByRole('status').filter({ hasText: expected }).waitFor();
}
