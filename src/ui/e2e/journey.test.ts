/**
 * The issue's whole story in one browser, as a new user lives it: sign in, find the example pipeline, trigger a run
 * (new data waiting in the source) and watch its column of the grid turn green live, open its Gantt and a task's log,
 * open a gold table's rows, compare two versions of the table the new data changed, trigger a pipeline with a
 * parameter, see a chart drawn from the runs, sign out. Then a viewer: no trigger button, and 403 from the API.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAF_FILE } from '../../demo-data/naf.js';
import {
  compareVersions,
  expectCleanPage,
  launchBrowser,
  serveProject,
  signIn,
  skipWithoutChromium,
  watchPage,
  type Browser,
  type ServedProject,
} from '../../testing/browser.js';

const PIPELINE = 'medallion_data_pipeline';
const RUN_TIMEOUT_MS = 90_000;
const NEW_CODE = '99.97Z';

/** The run the trigger form queued, from its status line. */
async function queuedRun(page: Page): Promise<string> {
  const status = page.getByRole('form', { name: 'Trigger a run' }).getByRole('status');
  await status.getByText(/Queued run_/).waitFor();
  const id = /Queued (run_\S+)/.exec((await status.textContent()) ?? '')?.[1];
  expect(id).toBeDefined();
  return id ?? '';
}

const cellsOf = (page: Page, runId: string, state = '') =>
  page.locator(`.run-grid a.cell${state && `.state-${state}`}[href^="/runs/${runId}?"]`);

/**
 * The run's column, seen while the run goes, ends with every task green, or grey where its inputs had not changed
 * since the last run (skipped).
 */
async function watchTurnGreen(page: Page, runId: string): Promise<void> {
  await cellsOf(page, runId).first().waitFor();
  const tasks = await page.locator('.run-grid tbody tr').count();
  const done = async () =>
    (await cellsOf(page, runId, 'success').count()) + (await cellsOf(page, runId, 'skipped').count());
  expect(await done()).toBeLessThan(tasks);
  await expect.poll(done, { timeout: RUN_TIMEOUT_MS, interval: 250 }).toBe(tasks);
  expect(await cellsOf(page, runId, 'success').count()).toBeGreaterThan(0);
}

describe.skipIf(skipWithoutChromium())('a new user’s first session in the web UI', () => {
  let served: ServedProject;
  let browser: Browser;

  beforeAll(async () => {
    served = await serveProject();
    await served.addUser('vera', 'viewer');
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('signs in, runs the example with new data and follows it to its tables, charts and logs, then signs out', async () => {
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await signIn(page, served.url);

    // New activity codes wait in the source: the triggered run makes new versions of the tables they feed.
    const naf = path.join(served.dir, 'source', NAF_FILE);
    const [header] = (await readFile(naf, 'utf8')).split('\n');
    await writeFile(naf.replace(/\.csv$/, '_new.csv'), `${header}\n${NEW_CODE};Activité nouvelle\n`);

    await page.getByRole('link', { name: PIPELINE }).click();
    await page.getByRole('heading', { name: PIPELINE }).waitFor();
    await page.getByRole('button', { name: 'Trigger run' }).click();
    const runId = await queuedRun(page);
    await watchTurnGreen(page, runId);

    // The run: its Gantt and a task's log.
    await cellsOf(page, runId).first().click();
    await page.getByRole('heading', { level: 1, name: `Run ${runId} success` }).waitFor();
    expect(await page.locator('.run-gantt svg path').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'silver.codes_naf', exact: true }).click();
    await page.getByRole('heading', { name: 'Log of silver.codes_naf' }).waitFor();
    await page.getByText(/try 1 of silver\.codes_naf started on/).waitFor();

    // A gold table's rows.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Lake' }).click();
    await page.getByRole('navigation', { name: 'Layers' }).getByRole('link', { name: /^gold/ }).click();
    await page
      .getByRole('table', { name: 'Tables' })
      .getByRole('link', { name: 'top_100_companies' })
      .click();
    await page.getByRole('heading', { name: 'gold.top_100_companies' }).waitFor();
    const rows = page.getByRole('table', { name: 'Rows' }).locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBeGreaterThan(0);

    // The two versions of the table the new code changed.
    await page
      .getByRole('navigation', { name: 'Layers' })
      .getByRole('link', { name: /^silver/ })
      .click();
    await page.getByRole('table', { name: 'Tables' }).getByRole('link', { name: 'codes_naf' }).click();
    await page.getByRole('heading', { name: 'silver.codes_naf' }).waitFor();
    await compareVersions(page, 0, 1, 'From version 0 to 1: 1 row added, 0 rows removed');
    await page
      .getByRole('table', { name: 'Rows added' })
      .getByRole('cell', { name: NEW_CODE, exact: true })
      .waitFor();

    // A run with a parameter: the layer check, stale past 48 hours.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Pipelines' }).click();
    await page.getByRole('link', { name: 'data_quality_checks' }).click();
    const form = page.getByRole('form', { name: 'Trigger a run' });
    await form.getByLabel('max_age_hours').fill('48');
    await form.getByRole('button', { name: 'Trigger run' }).click();
    const checkId = await queuedRun(page);
    // Its two tasks, layer_health and retention.
    await expect
      .poll(() => cellsOf(page, checkId, 'success').count(), { timeout: RUN_TIMEOUT_MS, interval: 250 })
      .toBe(2);
    await cellsOf(page, checkId).first().click();
    await page.getByRole('heading', { level: 1, name: `Run ${checkId} success` }).waitFor();
    await page.getByText('max_age_hours = 48').waitFor();

    // A chart drawn from the runs.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Monitoring' }).click();
    await page.getByLabel('Pipeline').selectOption(PIPELINE);
    const chart = page.getByRole('figure').filter({ hasText: 'Rows per layer' });
    await chart.getByText(/^\d+ runs, 3 layers$/).waitFor();
    const box = await chart.locator('svg').first().boundingBox();
    expect(box?.height).toBeGreaterThan(100);
    expect(await chart.locator('svg path').count()).toBeGreaterThan(3);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect((await page.request.get(`${served.url}/api/pipelines`)).status()).toBe(401);
    expectCleanPage(watched);
    await page.close();
  }, 240_000);

  it('shows a viewer no trigger button, and the API answers their trigger with 403', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await signIn(page, served.url, 'vera');
    await page.getByRole('link', { name: PIPELINE }).click();
    await page.locator('.run-grid a.cell.state-success').first().waitFor();
    expect(await page.getByRole('button', { name: 'Trigger run' }).count()).toBe(0);
    const csrf = await page.evaluate(() => sessionStorage.getItem('medallion.csrf'));
    const refused = await page.request.post(`${served.url}/api/pipelines/${PIPELINE}/runs`, {
      headers: { 'x-csrf-token': csrf ?? '' },
      data: {},
    });
    expect(refused.status()).toBe(403);
    expectCleanPage(watched);
    await page.close();
  });
});
