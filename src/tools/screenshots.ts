/**
 * `npm run screenshots`: the main pages of the web UI, photographed in chromium into docs/screenshots/ for the
 * README. A project of its own in a temp directory (sample data, four runs of the example — one failed on a truncated
 * file, the last with new activity codes — and a layer check), served by a real `medallion serve`; nothing of it stays.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { NAF_FILE } from '../demo-data/naf.js';
import { launchBrowser } from '../testing/chromium.js';
import { medallion } from '../testing/medallion-cli.js';
import { serveProject, signIn, type ServedProject } from '../testing/served-project.js';

const OUT = path.resolve('docs/screenshots');
const PIPELINE = 'medallion_data_pipeline';
const CONTRACTS_2022 = 'aws-marchespublics-annee-2022.json';

const log = (message: string) => process.stderr.write(`[screenshots] ${message}\n`);

/** What the pictures show: a history with new data, a failure and its repair, and quarantined rows. */
async function makeHistory(served: ServedProject): Promise<void> {
  const source = path.join(served.dir, 'source');
  const run = async (args: string[], expected: number) => {
    const ran = await medallion(['run', ...args], {}, { cwd: served.dir });
    if (ran.code !== expected) throw new Error(`medallion run ${args.join(' ')}: ${ran.code}\n${ran.stderr}`);
  };
  const contracts = path.join(source, CONTRACTS_2022);
  const document = JSON.parse(await readFile(contracts, 'utf8')) as { marches: Record<string, unknown>[] };
  document.marches.slice(0, 3).forEach((contract) => (contract.titulaires = []));
  document.marches.slice(3, 4).forEach((contract) => (contract.montant = '-5'));
  await writeFile(contracts, JSON.stringify(document, null, 2));
  await run(['--force'], 0);

  const truncated = path.join(source, 'aws-marchespublics-annee-2023.json');
  await writeFile(truncated, (await readFile(contracts, 'utf8')).slice(0, 500));
  await run([], 1);
  await rm(truncated);
  await run(['--force'], 0);

  const naf = path.join(source, NAF_FILE);
  const [header] = (await readFile(naf, 'utf8')).split('\n');
  await writeFile(naf.replace(/\.csv$/, '_new.csv'), `${header}\n99.97Z;Activité nouvelle\n`);
  await run([], 0);
  await run(['--pipeline', 'data_quality_checks'], 0);
}

interface Shot {
  file: string;
  path: string;
  /** What must be on screen before the picture is taken. */
  ready: (page: Page) => Promise<unknown>;
  dark?: boolean;
}

function shots(lastRun: string): Shot[] {
  const pipeline = `/pipelines/${PIPELINE}`;
  return [
    {
      file: 'pipelines.png',
      path: '/pipelines',
      ready: (page) => page.getByRole('link', { name: PIPELINE }).waitFor(),
    },
    {
      file: 'pipeline.png',
      path: pipeline,
      ready: (page) => page.locator('.graph-node').first().waitFor(),
    },
    {
      file: 'lineage.png',
      path: `${pipeline}?view=lineage`,
      ready: (page) => page.locator('.graph-node').first().waitFor(),
    },
    {
      file: 'run.png',
      path: `/runs/${lastRun}?task=silver.marches_publics`,
      ready: (page) => page.getByText(/try 1 of silver\.marches_publics started on/).waitFor(),
    },
    {
      file: 'lake.png',
      path: '/lake?layer=gold&table=top_100_companies',
      ready: (page) => page.getByRole('table', { name: 'Rows' }).locator('tbody tr').first().waitFor(),
    },
    {
      file: 'compare.png',
      path: '/lake?layer=silver&table=codes_naf&tab=compare',
      ready: async (page) => {
        // The last two versions: the last run added the new activity code.
        const line = page.getByText(/^Version \d+: /);
        const last = Number(/^Version (\d+)/.exec(await line.innerText())?.[1] ?? 1);
        await page.getByLabel('From version').selectOption(String(last - 1));
        await page.getByLabel('To version').selectOption(String(last));
        await page.getByRole('table', { name: 'Rows added' }).waitFor();
      },
    },
    {
      file: 'quality.png',
      path: `/quality?pipeline=${PIPELINE}`,
      ready: (page) => page.getByRole('figure').first().locator('svg').waitFor(),
    },
    {
      file: 'monitoring.png',
      path: `/monitoring?pipeline=${PIPELINE}`,
      ready: (page) => page.getByRole('list', { name: 'Layer warnings' }).waitFor(),
    },
    {
      file: 'pipeline-dark.png',
      path: pipeline,
      ready: (page) => page.locator('.graph-node').first().waitFor(),
      dark: true,
    },
  ];
}

async function photograph(served: ServedProject, list: Shot[], dark: boolean): Promise<void> {
  const browser = await launchBrowser({ colorScheme: dark ? 'dark' : 'light' });
  try {
    const page = await browser.context.newPage();
    await signIn(page, served.url);
    for (const shot of list.filter((each) => (each.dark ?? false) === dark)) {
      await page.goto(`${served.url}${shot.path}`);
      await shot.ready(page);
      // Charts and graphs settle (layout, fitting the view) in the frames after their data arrives.
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(OUT, shot.file) });
      log(`${shot.file}: ${shot.path}`);
    }
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  log('running the example pipeline into a project of its own…');
  const served = await serveProject({ scale: 0.05 });
  try {
    await makeHistory(served);
    const runs = await medallion(['runs', '--pipeline', PIPELINE, '--json'], {}, { cwd: served.dir });
    const [last] = JSON.parse(runs.stdout) as { id: string }[];
    if (!last) throw new Error('no run to photograph');
    await mkdir(OUT, { recursive: true });
    const list = shots(last.id);
    await photograph(served, list, false);
    await photograph(served, list, true);
    log(`wrote ${list.length} screenshots into ${OUT}`);
  } finally {
    await served.stop();
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
