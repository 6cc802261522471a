/** The Pipelines page in a real browser, against a real `medallion serve`. */
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

describe.skipIf(skipWithoutChromium())('the Pipelines page', () => {
  let served: ServedProject;
  let browser: Browser;

  beforeAll(async () => {
    served = await serveProject();
    await served.addUser('vera', 'viewer');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('lists the pipelines with their schedule in words, the last run as a square and the success rate', async () => {
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await signIn(page, served.url);
    const row = page.getByRole('row', { name: /medallion_data_pipeline/ });
    await row.getByText('On the hour, every 6 hours (UTC)').waitFor();
    await row.getByText(/100 % of \d+/).waitFor();
    expect(await row.locator('.square.state-success').count()).toBeGreaterThan(0);
    expectCleanPage(watched);
    await page.close();
  });

  it('lets a viewer read but not pause', async () => {
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await page.context().clearCookies();
    await signIn(page, served.url, 'vera');
    const toggle = page.getByRole('switch', { name: /medallion_data_pipeline/ });
    expect(await toggle.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expectCleanPage(watched);
    await page.close();
  });
});
