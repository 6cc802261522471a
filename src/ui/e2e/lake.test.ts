/** The Lake page in a real browser, against a real `medallion serve` over a lake the example pipeline made. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAF_FILE } from '../../demo-data/generate.js';
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
import { medallion } from '../../testing/medallion-cli.js';

/** Activity codes the second run brings. */
const NEW_CODES = ['99.98Z', '99.99Z'];

describe.skipIf(skipWithoutChromium())('the Lake page', () => {
  let served: ServedProject;
  let browser: Browser;
  let signedIn = false;

  beforeAll(async () => {
    served = await serveProject();
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  /** A page of the signed-in browser (signing in the first time), watched for errors. */
  async function open(search = ''): Promise<{ page: Page; watched: { problems: string[] } }> {
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    if (!signedIn) {
      await signIn(page, served.url);
      signedIn = true;
    }
    await page.goto(`${served.url}/lake${search}`);
    return { page, watched };
  }

  /** The texts of a column of the rows grid. */
  async function columnOf(page: Page, name: string): Promise<string[]> {
    const grid = page.getByRole('table', { name: 'Rows' });
    const headers = await grid.locator('thead th').allTextContents();
    const index = headers.findIndex((header) => header.replace(/[▲▼]/g, '').trim() === name);
    expect(index, `column ${name} in ${headers.join(', ')}`).toBeGreaterThanOrEqual(0);
    return grid.locator(`tbody tr td:nth-child(${index + 1})`).allTextContents();
  }

  it('opens a gold table from its layer, shows its rows sorted by a clicked header, and its history', async () => {
    const { page, watched } = await open();
    await page.getByRole('heading', { name: 'Lake' }).waitFor();
    await page.getByRole('navigation', { name: 'Layers' }).getByRole('link', { name: /^gold/ }).click();
    await page
      .getByRole('table', { name: 'Tables' })
      .getByRole('link', { name: 'top_100_companies' })
      .click();
    await page.getByRole('heading', { name: 'gold.top_100_companies' }).waitFor();
    const grid = page.getByRole('table', { name: 'Rows' });
    await grid.locator('tbody tr').first().waitFor();
    expect(await grid.locator('tbody tr').count()).toBeGreaterThan(1);

    await grid.getByRole('button', { name: 'montant_total_contrats' }).click();
    await grid.locator('th[aria-sort="ascending"]', { hasText: 'montant_total_contrats' }).waitFor();
    const ascending = (await columnOf(page, 'montant_total_contrats')).map(Number);
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await grid.getByRole('button', { name: 'montant_total_contrats' }).click();
    await grid.locator('th[aria-sort="descending"]', { hasText: 'montant_total_contrats' }).waitFor();
    const descending = (await columnOf(page, 'montant_total_contrats')).map(Number);
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
    expect(descending[0]).toBeGreaterThan(ascending[0] ?? 0);
    expect(new URL(page.url()).searchParams.get('sort')).toBe('montant_total_contrats');

    await page
      .getByRole('navigation', { name: 'Table views' })
      .getByRole('link', { name: 'History' })
      .click();
    const history = page.getByRole('table', { name: 'History' });
    const first = history.getByRole('row').filter({ hasText: 'gold.top_100_companies' }).last();
    await first.getByRole('link', { name: /^run_/ }).waitFor();
    expect(await first.getByRole('cell').first().textContent()).toBe('0');
    expectCleanPage(watched);
    await page.close();
  });

  it('compares two versions of a table after a second run with new data, and downloads one as CSV', async () => {
    const naf = path.join(served.dir, 'source', NAF_FILE);
    const [header] = (await readFile(naf, 'utf8')).split('\n');
    const rows = NEW_CODES.map((code) => `${code};Activité ${code}`);
    await writeFile(naf.replace(/\.csv$/, '_extra.csv'), [header, ...rows, ''].join('\n'));
    const ran = await medallion(['run', '--force'], {}, { cwd: served.dir });
    expect(ran.code, ran.stderr).toBe(0);

    const { page, watched } = await open('?layer=silver&table=codes_naf');
    await page.getByRole('heading', { name: 'silver.codes_naf' }).waitFor();
    await compareVersions(page, 0, 1, 'From version 0 to 1: 2 rows added, 0 rows removed');
    const added = page.getByRole('table', { name: 'Rows added' });
    for (const code of NEW_CODES) await added.getByRole('cell', { name: code, exact: true }).waitFor();
    expect(new URL(page.url()).searchParams.get('tab')).toBe('compare');

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('silver.codes_naf.v1.csv');
    const lines = (await readFile(await file.path(), 'utf8')).trim().split('\n');
    expect(lines[0]).toContain('code_naf');
    expect(lines.some((line) => line.includes(NEW_CODES[0] ?? ''))).toBe(true);
    expect(lines.length).toBeGreaterThan(100);
    expectCleanPage(watched);
    await page.close();
  });

  it('restores a table to an older version from its history, and marks the tables that read it stale', async () => {
    const { page, watched } = await open('?layer=silver&table=codes_naf&tab=history');
    const history = page.getByRole('table', { name: 'History' });
    await history.getByRole('button', { name: 'Restore version 0' }).click();
    await history.getByRole('button', { name: 'Restore version 0 as a new version' }).click();
    await history.getByRole('status').filter({ hasText: 'restored as version 2' }).waitFor();
    await history.getByRole('cell', { name: 'RESTORE of version 0', exact: true }).waitFor();
    expect(await history.getByRole('button', { name: 'Restore version 2' }).count()).toBe(0);

    await page.goto(`${served.url}/lake?layer=silver`);
    const tables = page.getByRole('table', { name: 'Tables' });
    await tables.getByRole('row').filter({ hasText: 'etablissements' }).getByText('stale').waitFor();
    expect(await tables.getByRole('row').filter({ hasText: 'codes_naf' }).getByText('stale').count()).toBe(0);
    expectCleanPage(watched);
    await page.close();
  });

  it('browses the objects of landing folder by folder and downloads a file', async () => {
    const { page, watched } = await open();
    await page
      .getByRole('navigation', { name: 'Layers' })
      .getByRole('link', { name: /^landing/ })
      .click();
    await page
      .getByRole('navigation', { name: 'Layer views' })
      .getByRole('link', { name: 'Objects' })
      .click();
    const objects = page.getByRole('table', { name: 'Objects' });
    await objects.getByRole('link', { name: 'codes_naf/' }).click();
    await page.getByRole('navigation', { name: 'Folder' }).getByRole('link', { name: 'codes_naf' }).waitFor();
    await objects.getByRole('link').first().click();
    const row = objects.getByRole('row').filter({ hasText: NAF_FILE });
    await row.waitFor();
    expect(await row.getByRole('cell').nth(1).textContent()).toMatch(/^\d+(\.\d)? (B|KB|MB)$/);
    expect(new URL(page.url()).searchParams.get('prefix')).toMatch(/^codes_naf\/.+\/$/);

    const download = page.waitForEvent('download');
    await row.getByRole('link', { name: `Download ${NAF_FILE}` }).click();
    const file = await download;
    expect(await readFile(await file.path())).toEqual(
      await readFile(path.join(served.dir, 'source', NAF_FILE)),
    );
    expectCleanPage(watched);
    await page.close();
  });
});
