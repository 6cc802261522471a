/** The Pipeline page in a real browser, against a real `medallion serve` whose scheduler executes the runs. */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../metadata/metadata-store.js';
import {
  expectCleanPage,
  launchBrowser,
  serveProject,
  signIn,
  skipWithoutChromium,
  watchPage,
  type Browser,
  type ServedProject,
} from '../../testing/browser.js';

/** A pipeline of the project's own that declares a parameter of each kind; its two tasks take no time. */
const GREETINGS = `
export default definePipeline({
  name: 'greetings',
  description: 'Greets as its parameters say',
  sources: [],
  tables: [],
  params: {
    region: { type: 'string', choices: ['eu', 'us'], default: 'eu' },
    batch: { type: 'integer', required: true, description: 'how many to greet' },
    loud: { type: 'boolean', default: false },
    day: { type: 'date' },
  },
  tasks: [
    { name: 'hello', run: async ({ params, log }) => { log('hello ' + params.region); return { detail: 'greeted' }; } },
    { name: 'goodbye', dependsOn: ['hello'], run: async () => ({ detail: 'done' }) },
  ],
});
`;

/** A run takes a few seconds on the sample data; the grid polls every 2 s while it goes. */
const RUN_TIMEOUT_MS = 90_000;

describe.skipIf(skipWithoutChromium())('the Pipeline page', () => {
  let served: ServedProject;
  let browser: Browser;

  beforeAll(async () => {
    served = await serveProject({ modules: { greetings: GREETINGS } });
    await served.addUser('vera', 'viewer');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  /**
   * A fresh page signed in as `name` (each test signs in anew: the browser's context is shared), at `path` when
   * given.
   */
  async function openAs(
    name: string,
    path?: string,
  ): Promise<{ page: Page; watched: { problems: string[] } }> {
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await page.context().clearCookies();
    await signIn(page, served.url, name);
    if (path) await page.goto(`${served.url}${path}`);
    return { page, watched };
  }

  async function finish(page: Page, watched: { problems: string[] }): Promise<void> {
    expectCleanPage(watched);
    await page.close();
  }

  const tasksShown = (page: Page) => page.locator('.run-grid tbody tr').count();
  const cellsOf = (page: Page, runId: string, state = '') =>
    page.locator(`.run-grid a.cell${state && `.state-${state}`}[href^="/runs/${runId}?"]`);

  /** The new run's id, once the form says it is queued. */
  async function queuedRun(page: Page): Promise<string> {
    const status = page.getByRole('form', { name: 'Trigger a run' }).getByRole('status');
    const id = /Queued (run_\S+)/.exec((await status.textContent({ timeout: 10_000 })) ?? '')?.[1];
    expect(id).toBeDefined();
    return id as string;
  }

  async function expectAllGreen(page: Page, runId: string): Promise<void> {
    const tasks = await tasksShown(page);
    await expect
      .poll(() => cellsOf(page, runId, 'success').count(), { timeout: RUN_TIMEOUT_MS, interval: 250 })
      .toBe(tasks);
  }

  it('opens from the Pipelines page on the grid of its runs, its task graph and its table lineage, coloured by the run', async () => {
    const { page, watched } = await openAs('admin');
    await page.getByRole('link', { name: 'medallion_data_pipeline' }).click();
    await page.getByRole('heading', { name: 'medallion_data_pipeline' }).waitFor();
    await page.getByText('On the hour, every 6 hours (UTC)').waitFor();

    // The run serveProject made (beside those the served scheduler makes): every task green. Selecting it colours the graphs.
    const made = page.getByRole('button', { name: /^Select run run_\S+: success, manual/ });
    const runId = /Select run (run_\S+):/.exec((await made.getAttribute('aria-label')) ?? '')?.[1] ?? '';
    await made.click();
    expect(new URL(page.url()).searchParams.get('run')).toBe(runId);
    expect(await made.getAttribute('aria-pressed')).toBe('true');
    const tasks = await tasksShown(page);
    expect(tasks).toBeGreaterThan(5);
    expect(await cellsOf(page, runId, 'success').count()).toBe(tasks);
    expect(await cellsOf(page, runId).first().getAttribute('href')).toBe(`/runs/${runId}?task=ingest`);

    const graph = page.getByRole('figure', { name: /^Task graph of medallion_data_pipeline/ });
    await graph.locator('.graph-node').first().waitFor();
    expect(await graph.locator('.graph-node[data-state="success"]').count()).toBe(tasks);

    await page.getByRole('tab', { name: 'Table lineage' }).click();
    expect(new URL(page.url()).searchParams.get('view')).toBe('lineage');
    const lineage = page.getByRole('figure', { name: /^Table lineage of medallion_data_pipeline/ });
    await lineage.locator('.graph-node').first().waitFor();
    const sources = await lineage.locator('.graph-node[data-state="none"]').count();
    const tables = await lineage.locator('.graph-node[data-state="success"]').count();
    expect(sources).toBeGreaterThan(0);
    // Every table but landing's files is written by a task of the run: ingest and quality_check write none.
    expect(tables).toBe(tasks - 2);
    await lineage
      .getByRole('link', { name: /^gold\./ })
      .first()
      .waitFor();
    await finish(page, watched);
  });

  it('triggers a forced run of the example pipeline (it declares no parameters) and turns its column green live', async () => {
    const { page, watched } = await openAs('admin', '/pipelines/medallion_data_pipeline');
    const form = page.getByRole('form', { name: 'Trigger a run' });
    await form.getByText('This pipeline declares no parameters.').waitFor();
    await form.getByLabel(/^Force/).check();
    await form.getByRole('button', { name: 'Trigger run' }).click();
    const runId = await queuedRun(page);
    const url = page.url();
    expect(new URL(url).searchParams.get('run')).toBe(runId);

    // It appears before it is done, and turns green without the page being loaded again.
    await cellsOf(page, runId).first().waitFor();
    expect(await cellsOf(page, runId, 'success').count()).toBeLessThan(await tasksShown(page));
    await expectAllGreen(page, runId);
    expect(page.url()).toBe(url);
    const graph = page.getByRole('figure', { name: new RegExp(`coloured by run ${runId}$`) });
    await expect
      .poll(() => graph.locator('.graph-node[data-state="success"]').count(), { timeout: 10_000 })
      .toBe(await tasksShown(page));
    await finish(page, watched);
  });

  it('builds the trigger form from the declared parameters, shows the error next to the field it names, and runs with the values given', async () => {
    const { page, watched } = await openAs('admin', '/pipelines/greetings');
    const form = page.getByRole('form', { name: 'Trigger a run' });
    const region = form.getByLabel('region');
    expect(await region.evaluate((element) => element.tagName)).toBe('SELECT');
    expect(await region.inputValue()).toBe('eu');
    expect(await form.getByLabel('batch').getAttribute('type')).toBe('number');
    expect(await form.getByLabel('loud').inputValue()).toBe('false');
    expect(await form.getByLabel('day').getAttribute('type')).toBe('date');

    // batch is required and has no default: the server says so, and the form shows it under batch.
    await form.getByRole('button', { name: 'Trigger run' }).click();
    const batch = form.locator('.field', { has: page.getByLabel('batch') });
    await batch.getByRole('alert').getByText('parameter batch: a value is required').waitFor();
    expect(await form.getByLabel('batch').getAttribute('aria-invalid')).toBe('true');
    // That 400 is the one request meant to fail.
    expect(watched.problems).toEqual([expect.stringContaining('400')]);
    watched.problems.length = 0;

    await form.getByLabel('batch').fill('3');
    await region.selectOption('us');
    await form.getByRole('button', { name: 'Trigger run' }).click();
    const runId = await queuedRun(page);
    expect(await batch.getByRole('alert').count()).toBe(0);
    await expectAllGreen(page, runId);
    const run = (await (await page.request.get(`${served.url}/api/runs/${runId}`)).json()) as {
      run: RunRecord;
    };
    expect(run.run.params).toEqual({ region: 'us', batch: 3, loud: false });
    await finish(page, watched);
  });

  it('pauses a scheduled pipeline and backfills it, saying how many runs were created and how many existed; the graphs follow a run older than the grid shows', async () => {
    const { page, watched } = await openAs('admin', '/pipelines/data_quality_checks');
    const toggle = page.getByRole('switch', { name: /data_quality_checks/ });
    await toggle.click();
    await page.getByRole('switch', { name: 'data_quality_checks paused' }).waitFor();
    await page.getByText('— (paused)').waitFor();

    await page.locator('summary', { hasText: 'Backfill' }).click();
    const form = page.getByRole('form', { name: 'Backfill' });
    await form.getByLabel('From (UTC)').fill('2025-06-01T00:00');
    await form.getByLabel('To (UTC)').fill('2025-06-06T12:00');
    await form.getByLabel('max_age_hours').fill('48');
    await form.getByRole('button', { name: 'Backfill' }).click();
    await form.getByRole('status').getByText('12 runs created, 0 already existed').waitFor();
    await form.getByRole('button', { name: 'Backfill' }).click();
    await form.getByRole('status').getByText('0 runs created, 12 already existed').waitFor();

    const runs = (await (
      await page.request.get(`${served.url}/api/runs?pipeline=data_quality_checks`)
    ).json()) as { runs: RunRecord[] };
    const backfilled = runs.runs
      .filter((run) => run.trigger === 'backfill')
      .sort((a, b) => (a.logicalDate < b.logicalDate ? -1 : 1));
    expect(backfilled.length).toBe(12);
    expect(backfilled[0]?.logicalDate).toBe('2025-06-01T00:00:00.000Z');
    expect(backfilled.at(-1)?.logicalDate).toBe('2025-06-06T12:00:00.000Z');
    expect(new Set(backfilled.map((run) => JSON.stringify(run.params)))).toEqual(
      new Set([JSON.stringify({ max_age_hours: 48 })]),
    );

    // The oldest is not among the last 10 runs: the graph asks for its states (it waits, the pipeline is paused).
    const oldest = backfilled[0]?.id ?? '';
    await page.goto(`${served.url}/pipelines/data_quality_checks?runs=10&run=${oldest}`);
    await page.getByText('(older than the runs shown)').waitFor();
    expect(await page.locator('.run-grid thead button').count()).toBe(10);
    // Both of its tasks (layer_health, retention) wait.
    const waiting = page.locator('.graph-node[data-state="scheduled"]');
    await waiting.first().waitFor();
    expect(await waiting.count()).toBe(2);

    await page.getByRole('switch', { name: 'data_quality_checks paused' }).click();
    await page.getByRole('switch', { name: 'data_quality_checks active' }).waitFor();
    await finish(page, watched);
  });

  it('shows a viewer the grid and the graphs but no switch, trigger or backfill; the API refuses their trigger', async () => {
    const { page, watched } = await openAs('vera', '/pipelines/medallion_data_pipeline');
    await page.locator('.run-grid a.cell.state-success').first().waitFor();
    await page.locator('.graph-node').first().waitFor();
    expect(await page.getByRole('button', { name: 'Trigger run' }).count()).toBe(0);
    expect(await page.getByRole('form').count()).toBe(0);
    expect(await page.getByRole('switch').count()).toBe(0);

    const csrf = await page.evaluate(() => sessionStorage.getItem('medallion.csrf'));
    const refused = await page.request.post(`${served.url}/api/pipelines/medallion_data_pipeline/runs`, {
      headers: { 'x-csrf-token': csrf ?? '' },
      data: {},
    });
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toContain('vera (viewer)');
    await finish(page, watched);
  });
});
