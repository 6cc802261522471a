import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertConfig } from '../core/alert-rules.js';
import { ConfigError, describeError } from '../core/errors.js';
import { openMetadataStore } from '../metadata/open.js';
import { startWebhookReceiver } from '../testing/alert-receivers.js';
import { openAlerter } from './alerter.js';
import { createChannels, loadAlertConfig } from './config.js';
import { EmailChannel } from './email.js';
import { WebhookChannel } from './webhook.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'medallion-alert-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = {
  channels: {
    ops: { webhook: { urlEnv: 'TEST_ALERT_WEBHOOK_URL', timeoutMs: 5000 } },
    mail: {
      email: {
        host: '127.0.0.1',
        port: 2525,
        user: 'alerts',
        passwordEnv: 'TEST_SMTP_PASSWORD',
        from: 'alerts@example.test',
        to: ['data@example.test'],
      },
    },
  },
  rules: [{ on: 'run_failed', channels: ['ops', 'mail'] }],
};

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
}

describe('alert configuration files', () => {
  it('reads a JSON file', async () => {
    const file = await write('alerts.json', JSON.stringify(config));
    expect(await loadAlertConfig(file)).toEqual({ ...config, groupWindow: '1h' });
  });

  it("reads an ES module's default export", async () => {
    const file = await write(
      'alerts.mjs',
      `// Comments are welcome here.\nexport default ${JSON.stringify({ ...config, groupWindow: '30m' })};\n`,
    );
    expect((await loadAlertConfig(file)).groupWindow).toBe('30m');
    const empty = await write('empty.mjs', 'export const alerts = {};\n');
    expect(describeError(await failure(loadAlertConfig(empty)))).toMatch(
      /empty\.mjs: .*has no default export/,
    );
  });

  it('names the file and the field of what is wrong in it', async () => {
    const bad = await write('bad.json', '{ "channels": {}, ');
    const error = await failure(loadAlertConfig(bad));
    expect(error).toBeInstanceOf(ConfigError);
    expect(describeError(error)).toMatch(/bad\.json: the alert configuration is not valid JSON/);

    const wrong = await write(
      'wrong.json',
      JSON.stringify({ ...config, rules: [{ on: 'run_failed', channels: [] }] }),
    );
    expect(describeError(await failure(loadAlertConfig(wrong)))).toMatch(
      /wrong\.json: alert configuration is invalid at rules\.0\.channels: /,
    );
    expect(describeError(await failure(loadAlertConfig(path.join(dir, 'missing.json'))))).toMatch(
      /missing\.json: cannot read the alert configuration/,
    );
    expect(describeError(await failure(loadAlertConfig(path.join(dir, 'alerts.yaml'))))).toMatch(
      /a \.json file or an \.mjs module, not "\.yaml"/,
    );
  });

  it('builds each channel with its secrets from the environment, and refuses to start without them', () => {
    const parsed = parseAlertConfig(config);
    const channels = createChannels(parsed, {
      TEST_ALERT_WEBHOOK_URL: 'https://hooks.example.test/services/T1/B2/abcdefghijklmnopqrstuvwx',
      TEST_SMTP_PASSWORD: 's3cret',
    });
    expect(channels.get('ops')).toBeInstanceOf(WebhookChannel);
    expect(channels.get('mail')).toBeInstanceOf(EmailChannel);
    void channels.get('mail')?.close?.();

    expect(() => createChannels(parsed, { TEST_SMTP_PASSWORD: 's3cret' })).toThrow(
      /alert channel ops: the environment variable TEST_ALERT_WEBHOOK_URL \(the webhook URL\) is not set/,
    );
    expect(() =>
      createChannels(parsed, { TEST_ALERT_WEBHOOK_URL: 'hooks.example.test', TEST_SMTP_PASSWORD: 'x' }),
    ).toThrow(/TEST_ALERT_WEBHOOK_URL does not hold an http\(s\) URL/);
  });

  it('opens an alerter from a file that sends a test message to its channels', async () => {
    const hook = await startWebhookReceiver();
    const store = await openMetadataStore(':memory:');
    try {
      const file = await write(
        'test.json',
        JSON.stringify({ channels: { ops: { webhook: { url: hook.url } } }, rules: [] }),
      );
      const alerter = await openAlerter(file, store);
      expect(await alerter.sendTest()).toEqual({
        cause: 'test',
        sent: true,
        occurrences: 1,
        delivered: ['ops'],
        failed: [],
      });
      expect((hook.payloads()[0] as { text: string }).text).toContain('medallion test alert');
      expect(await alerter.sendTest(['nope'])).toMatchObject({
        delivered: [],
        failed: [{ channel: 'nope', error: 'no channel named nope' }],
      });
      await alerter.close();
    } finally {
      await store.close();
      await hook.close();
    }
  });
});
