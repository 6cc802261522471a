import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMetadataStore } from '../metadata/open.js';
import { closedPort, startWebhookReceiver, type WebhookReceiver } from '../testing/alert-receivers.js';
import { medallion } from '../testing/medallion-cli.js';

let dir: string;
let receiver: WebhookReceiver;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-alerts-cli-'));
  await mkdir(path.join(dir, 'source'));
  receiver = await startWebhookReceiver();
  const api = pathToFileURL(path.resolve('dist/index.js')).href;
  await writeFile(
    path.join(dir, 'broken.mjs'),
    `import { definePipeline } from '${api}';\n` +
      `export default definePipeline({ name: 'broken', sources: [], tables: [], tasks: [\n` +
      `  { name: 'load', run: async () => { throw new Error('the warehouse is down'); } },\n` +
      `] });\n`,
  );
  await writeFile(
    path.join(dir, 'alerts.json'),
    JSON.stringify({
      channels: { ops: { webhook: { url: receiver.url, timeoutMs: 2000, retries: 1 } } },
      rules: [{ on: 'run_failed', channels: ['ops'] }],
      groupWindow: '1h',
    }),
  );
});

afterAll(async () => {
  await receiver.close();
});

/** `medallion run` of the always-failing pipeline, alerting as the named file of the test dir says. */
function runBroken(alerts: string, db = 'metadata.db'): ReturnType<typeof medallion> {
  return medallion([
    'run',
    '--pipeline',
    path.join(dir, 'broken.mjs'),
    '--source',
    path.join(dir, 'source'),
    '--lake',
    path.join(dir, 'lake'),
    '--db',
    `sqlite:${path.join(dir, db)}`,
    '--alerts',
    path.join(dir, alerts),
  ]);
}

describe('alerts from the medallion command', () => {
  it('posts one webhook message for a failing task, however often it fails within the group window', async () => {
    const run = () => runBroken('alerts.json');
    expect((await run()).code).toBe(1);
    expect((await run()).code).toBe(1);
    expect((await run()).code).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.stringify(receiver.payloads()[0])).toMatch(/broken[\s\S]*load[\s\S]*the warehouse is down/);
  });

  it('refuses an alert file that names an unknown channel, naming the field', async () => {
    await writeFile(
      path.join(dir, 'bad-alerts.json'),
      JSON.stringify({ channels: {}, rules: [{ on: 'run_failed', channels: ['nowhere'] }] }),
    );
    const result = await runBroken('bad-alerts.json');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/rules\.0\.channels/);
  });

  it('prints and stores a failed delivery with the webhook host, never its secret path', async () => {
    const token = 'abcdefghijklmnopqrstuvwx';
    const host = `127.0.0.1:${await closedPort()}`;
    await writeFile(
      path.join(dir, 'closed-alerts.json'),
      JSON.stringify({
        channels: { ops: { webhook: { url: `http://${host}/services/T0123/B0456/${token}`, retries: 0 } } },
        rules: [{ on: 'run_failed', channels: ['ops'] }],
      }),
    );
    const run = await runBroken('closed-alerts.json', 'closed/metadata.db');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`webhook ops (http://${host}/***): cannot reach the server: ECONNREFUSED`);
    expect(`${run.stdout}${run.stderr}`).not.toContain(token);

    const store = await openMetadataStore(`sqlite:${path.join(dir, 'closed', 'metadata.db')}`);
    const alerts = await store.listAlerts().finally(() => store.close());
    expect(alerts.map((alert) => alert.lastError)).toEqual([
      `webhook ops (http://${host}/***): cannot reach the server: ECONNREFUSED`,
    ]);
    // Nowhere in the database files either (SQLite's journal included).
    for (const file of await readdir(path.join(dir, 'closed'))) {
      expect((await readFile(path.join(dir, 'closed', file))).includes(token), file).toBe(false);
    }
  });
});
