/**
 * The fleet in a real browser, against a real `medallion serve` that executes the `default` queue only: a run whose
 * task waits for a queue nobody serves says so on its Run page, and the Workers page lists the processes recorded
 * in the metadata database (the server itself, and a worker of another machine recorded by the test).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../metadata/metadata-store.js';
import { openMetadataStore } from '../../metadata/open.js';
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
import { medallion } from '../../testing/medallion-cli.js';

/** A pipeline whose second task runs on GPU machines (queue `gpu`), which the server does not serve. */
const RENDERS = `
export default definePipeline({
  name: 'renders',
  sources: [],
  tables: [],
  tasks: [
    { name: 'prepare', run: async () => ({ detail: 'prepared' }) },
    { name: 'render', dependsOn: ['prepare'], policy: { queue: 'gpu' }, run: async () => ({ detail: 'rendered' }) },
  ],
});
`;

describe.skipIf(skipWithoutChromium())('queues and the Workers page', () => {
  let served: ServedProject;
  let browser: Browser;
  let store: MetadataStore;

  beforeAll(async () => {
    served = await serveProject({
      run: false,
      modules: { renders: RENDERS },
      config: {
        scheduler: { queues: ['default'] },
        // DuckDB by default, a Spark server for tables that ask for it: the Run page names it and links its UI.
        engine: {
          default: 'duckdb',
          spark: { remote: 'sc://spark.example:15002/;use_ssl=true', uiUrl: 'http://spark.example:4040/' },
        },
      },
    });
    store = await openMetadataStore(served.db);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await store?.close();
    await served?.stop();
  });

  async function openAs(path: string): Promise<{ page: Page; watched: { problems: string[] } }> {
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await page.context().clearCookies();
    await signIn(page, served.url);
    await page.goto(`${served.url}${path}`);
    return { page, watched };
  }

  it('shows a task queued in a queue no live worker serves as waiting for that queue', async () => {
    const triggered = await medallion(['trigger', 'renders'], {}, { cwd: served.dir });
    expect(triggered.code, triggered.stderr).toBe(0);
    const runId = triggered.stdout.trim();
    const { page, watched } = await openAs(`/runs/${runId}`);
    // prepare runs here (queue default); render waits for a GPU worker.
    const render = page.getByRole('row', { name: /^render / });
    const badge = render.getByText('waiting for queue gpu', { exact: true });
    await badge.waitFor({ timeout: 60_000 });
    expect(await badge.getAttribute('title')).toMatch(
      /^waiting for queue gpu: no live worker serves it \(start one with medallion worker --queues gpu\)/,
    );
    await render.getByText('queued', { exact: true }).waitFor();
    await page
      .getByRole('row', { name: /^prepare / })
      .getByText('success', { exact: true })
      .first()
      .waitFor();
    await page.getByRole('heading', { level: 1, name: `Run ${runId} running` }).waitFor();
    // The engine the run recorded, its Spark UI linked.
    const facts = page.locator('.run-facts');
    await facts.getByText('sc://spark.example:15002/;use_ssl=true').waitFor();
    expect(await facts.getByRole('link', { name: 'Spark UI' }).getAttribute('href')).toBe(
      'http://spark.example:4040/',
    );

    // The task's own view names its queue, and why it has not run.
    await page.getByRole('button', { name: 'render', exact: true }).click();
    await page.getByRole('heading', { name: 'Log of render' }).waitFor();
    const queue = page.locator('.task-queue');
    await queue.getByText('gpu', { exact: true }).waitFor();
    await queue.getByText('waiting for queue gpu').waitFor();
    await page.getByText(/^It has not run: waiting for queue gpu: no live worker serves it/).waitFor();
    // prepare, of the default queue, says nothing of queues.
    await page.getByRole('button', { name: 'prepare', exact: true }).click();
    await page.getByRole('heading', { name: 'Log of prepare' }).waitFor();
    expect(await page.locator('.task-queue').count()).toBe(0);
    expectCleanPage(watched);
    await page.close();
  });

  it('lists the processes with their queues and slots, and those gone when asked', async () => {
    const now = new Date().toISOString();
    const worker = {
      kind: 'worker' as const,
      host: 'gpu-box-1',
      pid: 4242,
      startedAt: now,
      pipelines: [{ name: 'renders', definitionHash: 'h' }],
      queues: ['gpu', 'gpu-large'],
      slots: 2,
    };
    await store.recordProcess({ ...worker, id: 'gpu-box-1:4242:live' }, now);
    await store.recordProcess({ ...worker, id: 'gpu-box-2:77:gone', host: 'gpu-box-2', pid: 77 }, now);
    await store.stopProcess('gpu-box-2:77:gone', now);

    const { page, watched } = await openAs('/pipelines');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Workers' }).click();
    await page.getByRole('heading', { name: 'Workers' }).waitFor();
    const processes = page.getByRole('table', { name: 'Processes' });
    const live = processes.getByRole('row', { name: /gpu-box-1:4242:live/ });
    await live.waitFor();
    expect(await live.getByRole('cell').allInnerTexts()).toEqual([
      'gpu-box-1:4242:live',
      'worker',
      'gpu-box-1 pid 4242',
      'renders',
      'gpu, gpu-large',
      '2',
      '0',
      expect.stringMatching(/^\d+ s ago$/),
      'alive',
    ]);
    expect(await live.locator('time').getAttribute('title')).toBe(
      `${now.slice(0, 19).replace('T', ' ')} UTC`,
    );
    // The server itself, executing the default queue only.
    const server = processes
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: 'serve', exact: true }) });
    expect(await server.getByRole('cell').nth(4).innerText()).toBe('default');
    await page
      .getByText(
        /^\d+ alive processes, \d+ slots, \d+ tr(y|ies) running; queues served: default, gpu, gpu-large\.$/,
      )
      .waitFor();
    const gone = processes.getByRole('row', { name: /gpu-box-2:77:gone/ });
    expect(await gone.count()).toBe(0);

    // Those gone too, on asking; the choice is in the URL.
    await page.getByLabel('Show stopped and dead ones').check();
    await gone.getByText('stopped', { exact: true }).waitFor();
    expect(new URL(page.url()).searchParams.get('all')).toBe('true');
    await page.reload();
    await gone.getByText(/^stopped \d+ s ago$/).waitFor();
    expect(await page.getByLabel('Show stopped and dead ones').isChecked()).toBe(true);
    expectCleanPage(watched);
    await page.close();
  });
});
