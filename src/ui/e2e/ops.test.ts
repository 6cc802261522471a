/**
 * The Quality, Monitoring, Connections, Users and Account pages in a real browser, against a real `medallion serve`
 * whose project ran the example pipeline twice and the layer check once.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { testS3Server } from '../../testing/minio.js';

describe.skipIf(skipWithoutChromium())('the Quality, Monitoring and admin pages', () => {
  let served: ServedProject;
  let browser: Browser;

  beforeAll(async () => {
    served = await serveProject();
    for (const args of [
      ['run', '--force'],
      ['run', '--pipeline', 'data_quality_checks'],
    ]) {
      const ran = await medallion(args, {}, { cwd: served.dir });
      if (ran.code !== 0) throw new Error(`medallion ${args.join(' ')}: ${ran.stderr}`);
    }
    await served.addUser('vera', 'viewer');
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  /** A page signed in as `name`, watched for console errors and failed requests. */
  async function openAs(name: string, path: string) {
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await page.context().clearCookies();
    await signIn(page, served.url, name);
    await page.goto(`${served.url}${path}`);
    return { page, watched };
  }

  const chart = (page: Page, title: string) => page.getByRole('figure').filter({ hasText: title });

  it('draws Monitoring’s charts from the runs, and shows the layer check’s warnings', async () => {
    const { page, watched } = await openAs('admin', '/monitoring');
    await page.getByRole('heading', { name: 'Monitoring' }).waitFor();
    const rows = chart(page, 'Rows per layer');
    // The example ran twice (and the server's scheduler may have started its own run since).
    const caption = rows.getByText(/^\d+ runs, 3 layers$/);
    await caption.waitFor();
    expect(Number((await caption.innerText()).split(' ')[0])).toBeGreaterThanOrEqual(2);
    const drawing = rows.locator('svg');
    expect(await drawing.count()).toBeGreaterThan(0);
    const box = await drawing.first().boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(box?.height).toBeGreaterThan(100);
    await chart(page, 'Task durations')
      .getByText(/ runs, 13 tasks$/)
      .waitFor();
    await chart(page, 'Success rate')
      .getByText(/ runs, \d+ % of the last ones succeeded$/)
      .waitFor();
    await page.getByRole('list', { name: 'Layer warnings' }).getByRole('listitem').first().waitFor();

    // The choices live in the URL: a shared link opens the same view.
    await page.getByLabel('Runs').selectOption('20');
    await page.getByLabel('Pipeline').selectOption('data_quality_checks');
    await page.waitForURL(/pipeline=data_quality_checks/);
    expect(page.url()).toContain('runs=20');
    const layers = chart(page, 'Bytes per layer').getByText(/^\d+ runs?, 4 layers$/);
    await layers.waitFor();
    await page.reload();
    await layers.waitFor();
    expectCleanPage(watched);
    await page.close();
  });

  it('shows Quality’s expectation results (some warn on sample data) and the quarantine by reason', async () => {
    const { page, watched } = await openAs('admin', '/quality');
    await chart(page, 'Failing rows per expectation')
      .getByText(/^\d+ runs, [1-9]\d* of \d+ expectations/)
      .waitFor();
    const warned = page.getByRole('row', { name: /titulaire_siret_valid/ });
    await warned.getByText('warned').waitFor();
    const reason = page.getByRole('button', { name: /^section_row \d+$/ });
    await reason.click();
    await page.waitForURL(/qtable=silver_codes_naf&reason=section_row/);
    await page
      .getByRole('heading', { name: 'Newest rows of silver_codes_naf quarantined as section_row' })
      .waitFor();
    const samples = page.getByRole('table').filter({ hasText: 'Record id' });
    expect(await samples.getByRole('row').count()).toBeGreaterThan(1);
    expect(await samples.getByRole('cell', { name: 'section_row', exact: true }).count()).toBe(
      (await samples.getByRole('row').count()) - 1,
    );
    expect(await reason.getAttribute('aria-pressed')).toBe('true');
    expectCleanPage(watched);
    await page.close();
  });

  it('lets an admin add a connection, test it and remove it, never showing its secret', async () => {
    const { page, watched } = await openAs('admin', '/connections');
    const server = testS3Server();
    const minio = 'reason' in server ? undefined : server;
    await page.getByLabel('Name').fill('lake-store');
    // Without the test S3 server, a port nothing listens on: the test must say that it fails.
    await page.getByLabel('Endpoint').fill(minio?.endpoint ?? 'http://127.0.0.1:9');
    await page.getByLabel('Region').fill(minio?.region ?? 'us-east-1');
    await page.getByLabel('Access key id').fill(minio?.accessKeyId ?? 'AKIAEXAMPLEKEY1234');
    const secret = minio?.secretAccessKey ?? 'a secret never to be shown';
    await page.getByLabel('Secret access key').fill(secret);
    await page.getByRole('button', { name: 'Save connection' }).click();
    const row = page.getByRole('row', { name: /lake-store/ });
    await row.waitFor();
    expect(await page.getByLabel('Secret access key').inputValue()).toBe('');
    await row.getByRole('button', { name: 'Test' }).click();
    const result = row.getByRole('status', { name: 'test of lake-store' });
    await result.getByText(minio ? /✔ works/ : /✘ fails/).waitFor({ timeout: 30_000 });
    expect(await page.content()).not.toContain(secret);
    // Replacing fills in what may be shown, and asks for the keys again.
    await row.getByRole('button', { name: 'Replace lake-store' }).click();
    expect(await page.getByLabel('Name').inputValue()).toBe('lake-store');
    expect(await page.getByLabel('Secret access key').inputValue()).toBe('');
    expect(await page.getByLabel('Access key id').evaluate((input) => input === document.activeElement)).toBe(
      true,
    );

    await row.getByRole('button', { name: 'Remove' }).click();
    await page
      .getByRole('dialog', { name: 'Remove connection lake-store?' })
      .getByRole('button', { name: 'Yes, remove' })
      .click();
    await row.waitFor({ state: 'detached' });
    expectCleanPage(watched);
    await page.close();
  });

  it('lets an admin add a user, and says why the last admin cannot be removed', async () => {
    const { page, watched } = await openAs('admin', '/users');
    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Name').fill('olga');
    await form.getByLabel('Role').selectOption('operator');
    await form.getByLabel('Password').fill('olga’s long password');
    await form.getByRole('button', { name: 'Add user' }).click();
    const olga = page.getByRole('row', { name: /olga/ });
    expect(await olga.getByRole('combobox', { name: 'Role of olga' }).inputValue()).toBe('operator');

    const admin = page.getByRole('row', { name: /^admin/ });
    await admin.getByRole('button', { name: 'Remove' }).click();
    await page
      .getByRole('dialog', { name: 'Remove user admin?' })
      .getByRole('button', { name: 'Yes, remove' })
      .click();
    await admin.getByRole('alert').getByText('admin is the last admin').waitFor();
    // The refusal is the one request that failed, and on purpose.
    expect(watched.problems).toEqual([expect.stringMatching(/status of 400/)]);
    watched.problems.length = 0;
    expectCleanPage(watched);
    await page.close();
  });

  it('lets every user make a token from their account page, see it once, and revoke it', async () => {
    const { page, watched } = await openAs('vera', '/pipelines');
    await page.getByRole('link', { name: 'vera' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByLabel('Name').fill('scripts');
    await page.getByRole('button', { name: 'Make token' }).click();
    await page.getByText('it is shown only once').waitFor();
    const token = await page.getByRole('textbox', { name: 'New token' }).inputValue();
    expect(token).toMatch(/^mdl_[0-9a-f]{16}_/);
    const asToken = { headers: { authorization: `Bearer ${token}` } };
    expect((await page.request.get(`${served.url}/api/pipelines`, asToken)).status()).toBe(200);

    await page.getByRole('button', { name: 'I have copied it' }).click();
    // The list shows the token as soon as it is made: the reveal going is what the click does.
    await page.getByRole('textbox', { name: 'New token' }).waitFor({ state: 'detached' });
    const row = page.getByRole('row', { name: /scripts/ });
    await row.getByText('active').waitFor();
    expect(await page.content()).not.toContain(token);
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page
      .getByRole('dialog', { name: 'Revoke token scripts?' })
      .getByRole('button', { name: 'Yes, revoke' })
      .click();
    await row.getByText(/^revoked/).waitFor();
    expect((await page.request.get(`${served.url}/api/pipelines`, asToken)).status()).toBe(401);
    expectCleanPage(watched);
    await page.close();
  });

  it('hides Connections and Users from a viewer, whose calls to their API get 403', async () => {
    const { page, watched } = await openAs('vera', '/pipelines');
    const nav = page.getByRole('navigation', { name: 'Pages' });
    await nav.getByRole('link', { name: 'Monitoring' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Connections' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
    for (const path of ['/api/connections', '/api/users']) {
      expect((await page.request.get(`${served.url}${path}`)).status(), path).toBe(403);
    }
    await page.goto(`${served.url}/users`);
    await page.getByText('Only admins see this page.').waitFor();
    expectCleanPage(watched);
    await page.close();
  });
});
