/** The Run page in a real browser, against a real `medallion serve` whose scheduler runs what is triggered. */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectCleanPage,
  launchBrowser,
  PASSWORD,
  serveProject,
  signIn,
  skipWithoutChromium,
  watchPage,
  type Browser,
  type ServedProject,
} from '../../testing/browser.js';

const PIPELINE = 'medallion_data_pipeline';

/** The API as the admin, from the test (its own session: the browser's stays as it is). */
async function adminApi(url: string) {
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'admin', password: PASSWORD }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    expect(response.ok, `${method} ${path}: ${response.status}`).toBe(true);
    return (await response.json()) as T;
  };
}

describe.skipIf(skipWithoutChromium())('the Run page', () => {
  let served: ServedProject;
  let browser: Browser;
  let api: Awaited<ReturnType<typeof adminApi>>;

  beforeAll(async () => {
    served = await serveProject();
    await served.addUser('vera', 'viewer');
    browser = await launchBrowser();
    api = await adminApi(served.url);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  /** A forced run (every task runs), held queued by pausing the pipeline until the test unpauses it. */
  /** A page signed in as `name` (the browser's pages share their cookies: whoever signed in before is signed out). */
  async function pageOf(name = 'admin'): Promise<{ page: Page; watched: { problems: string[] } }> {
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await page.context().clearCookies();
    await signIn(page, served.url, name);
    return { page, watched };
  }

  async function heldRun(): Promise<string> {
    await api('POST', `/api/pipelines/${PIPELINE}/pause`, {});
    return (await api<{ id: string }>('POST', `/api/pipelines/${PIPELINE}/runs`, { force: true })).id;
  }

  const heading = (page: Page, state: string) =>
    page.getByRole('heading', { level: 1, name: new RegExp(`^Run run_\\S+ ${state}$`) });

  const tryBars = (page: Page) => page.locator('.run-gantt svg path[fill="#2e9b57"]');

  it('draws the Gantt of a run, shows a task’s log, finds a line in it and downloads it', async () => {
    const { page, watched } = await pageOf();
    const { runs } = await api<{ runs: { id: string }[] }>('GET', `/api/runs?pipeline=${PIPELINE}`);
    const runId = runs[0]?.id ?? '';
    await page.goto(`${served.url}/runs/${runId}`);
    await heading(page, 'success').waitFor();
    expect(await page.getByRole('link', { name: PIPELINE }).getAttribute('href')).toBe(
      `/pipelines/${PIPELINE}`,
    );
    await page.getByLabel('Headline').getByText('companies').waitFor();
    await page.getByRole('row', { name: /^silver\.marches_publics \d+/ }).waitFor();
    // 13 tasks, one successful try each, each a bar in the success colour.
    await page.locator('.run-gantt svg').waitFor();
    expect(await tryBars(page).count()).toBe(13);
    // A bar tells of its try, and chooses it: the first is ingest's (taken by its place: hovering reorders them).
    const ingest = await tryBars(page).first().boundingBox();
    const [x, y] = [
      (ingest?.x ?? 0) + (ingest?.width ?? 0) / 2,
      (ingest?.y ?? 0) + (ingest?.height ?? 0) / 2,
    ];
    await page.mouse.move(x, y);
    await page
      .locator('.run-gantt')
      .getByText(/ingest · try 1 · success\s*took \d+\.\d+ s/)
      .waitFor();
    await page.mouse.click(x, y);
    await page.getByRole('heading', { name: 'Log of ingest' }).waitFor();
    expect(new URL(page.url()).searchParams.get('attempt')).toBe('1');

    await page.getByRole('button', { name: 'silver.marches_publics', exact: true }).click();
    await page.getByRole('heading', { name: 'Log of silver.marches_publics' }).waitFor();
    await page.getByText(/try 1 of silver\.marches_publics started on/).waitFor();
    expect(new URL(page.url()).searchParams.get('task')).toBe('silver.marches_publics');

    const search = page.getByRole('searchbox', { name: 'Search the log' });
    await search.fill('reads bronze.marches_publics');
    await page.getByText('1 of 1', { exact: true }).waitFor();
    expect(await page.locator('.log-lines mark.current').textContent()).toBe('reads bronze.marches_publics');
    await search.fill('SQL ');
    const counter = page.getByText(/^1 of \d+$/);
    const total = Number((await counter.textContent())?.split(' of ')[1]);
    expect(total).toBeGreaterThan(3);
    expect(await page.locator('.log-lines mark').count()).toBe(total);
    await page.getByRole('button', { name: 'Next match' }).click();
    await page.getByText(`2 of ${total}`, { exact: true }).waitFor();
    await search.press('Shift+Enter');
    await search.press('Shift+Enter');
    await page.getByText(`${total} of ${total}`, { exact: true }).waitFor();

    // The choices are in the URL: the same page comes back from it.
    expect(new URL(page.url()).searchParams.get('q')).toBe('SQL ');
    await page.reload();
    await page.getByText(`1 of ${total}`, { exact: true }).waitFor();
    expect(await search.inputValue()).toBe('SQL ');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download log' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${runId}_silver.marches_publics_try1.log`);
    const saved = (await readFile(await download.path(), 'utf8')).trimEnd().split('\n');
    expect(saved).toEqual(await page.locator('.log-lines li').allTextContents());
    expect(saved.some((line) => line.includes('reads bronze.marches_publics version'))).toBe(true);
    expectCleanPage(watched);
    await page.close();
  });

  it('follows a triggered run live, through cancel and clear, until it succeeds', async () => {
    const { page, watched } = await pageOf();
    const runId = await heldRun();
    await page.goto(`${served.url}/runs/${runId}`);
    await heading(page, 'queued').waitFor();
    // Marks this document: it must still be the same one when the run has succeeded (no reload).
    await page.evaluate(() => document.body.setAttribute('data-same-page', 'yes'));

    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page
      .getByRole('dialog', { name: /Stop run/ })
      .getByRole('button', { name: 'Stop the run' })
      .click();
    await heading(page, 'cancelled').waitFor();
    await page.getByText('cancelled by admin').waitFor();
    await page.getByRole('button', { name: 'ingest', exact: true }).click();
    await page.getByRole('heading', { name: 'Log of ingest' }).waitFor();
    await page.getByRole('button', { name: 'Clear ingest' }).waitFor();
    await page.getByRole('button', { name: 'Clear failed tasks' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Clear them' }).click();
    await heading(page, 'queued').waitFor();

    await page.getByRole('button', { name: 'silver.marches_publics', exact: true }).click();
    await page.getByText(/^It has not run/).waitFor();
    await api('POST', `/api/pipelines/${PIPELINE}/unpause`, {});
    await heading(page, 'success').waitFor({ timeout: 60_000 });
    await page.getByText(/try 1 of silver\.marches_publics started on/).waitFor();
    await page.getByLabel('Headline').getByText('companies').waitFor();
    expect(await page.locator('body[data-same-page="yes"]').count()).toBe(1);
    expect(await tryBars(page).count()).toBe(13);
    expectCleanPage(watched);
    await page.close();
  });

  it('shows a viewer neither Cancel nor Clear', async () => {
    const { page, watched } = await pageOf('vera');
    const runId = await heldRun();
    await page.goto(`${served.url}/runs/${runId}?task=ingest`);
    await heading(page, 'queued').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await api('POST', `/api/runs/${runId}/cancel`, {});
    await heading(page, 'cancelled').waitFor();
    await page.getByRole('heading', { name: 'Log of ingest' }).waitFor();
    expect(await page.getByRole('button', { name: /^Clear/ }).count()).toBe(0);
    await api('POST', `/api/pipelines/${PIPELINE}/unpause`, {});
    expectCleanPage(watched);
    await page.close();
  });
});
