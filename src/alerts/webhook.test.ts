import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, startWebhookReceiver, type WebhookReceiver } from '../testing/alert-receivers.js';
import { ConfigError } from '../core/errors.js';
import type { AlertMessage } from './channel.js';
import { redactWebhookUrl, WebhookChannel } from './webhook.js';

const message: AlertMessage = {
  cause: 'run_failed:sales:silver.contracts',
  kind: 'run_failed',
  pipeline: 'sales',
  severity: 'error',
  title: 'sales: task silver.contracts failed',
  text: 'Run run-4 of sales failed: task silver.contracts failed after 2 tries: boom.',
  facts: { pipeline: 'sales', run: 'run-4', task: 'silver.contracts' },
  runId: 'run-4',
  occurrence: 'run-4',
  channels: ['ops'],
  at: '2024-03-01T01:00:00.000Z',
  occurrences: 4,
  grouped: 3,
  firstAt: '2024-03-01T00:00:00.000Z',
  previousSentAt: '2024-03-01T00:00:00.000Z',
};

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(...args: Parameters<typeof startWebhookReceiver>): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(...args);
  receivers.push(started);
  return started;
}

describe('the webhook channel', () => {
  it('posts Slack-compatible JSON with the title, what happened and how often', async () => {
    const hook = await receiver();
    await new WebhookChannel('ops', { url: hook.url }).send(message);
    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/hooks/alerts');
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    const payload = hook.payloads()[0] as { text: string; blocks: { type: string }[] };
    expect(Object.keys(payload).sort()).toEqual(['blocks', 'text']);
    expect(payload.text).toContain('*sales: task silver.contracts failed*');
    expect(payload.text).toContain('failed after 2 tries: boom');
    expect(payload.text).toContain(
      '3 occurrence(s) since the last alert at 2024-03-01T00:00:00.000Z; 4 in all since 2024-03-01T00:00:00.000Z',
    );
    expect(payload.blocks.map((block) => block.type)).toEqual(['header', 'section', 'context']);
    expect(JSON.stringify(payload.blocks[2])).toContain('run_failed:sales:silver.contracts');
  });

  it('retries after a 500 answer and succeeds on the next try', async () => {
    const hook = await receiver((index) => ({ status: index === 0 ? 500 : 200 }));
    await new WebhookChannel('ops', { url: hook.url, retries: 2, backoffMs: 10 }).send(message);
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests[0]?.body).toBe(hook.requests[1]?.body);
  });

  it('gives up after its retries with an error naming the host only: no credentials, path or query', async () => {
    const hook = await receiver(() => ({ status: 503, body: 'down for maintenance' }));
    const url = hook.url.replace('http://', 'http://someone:hunter2@') + '?token=secret';
    const error = await new WebhookChannel('ops', { url, retries: 2, backoffMs: 5 })
      .send(message)
      .catch((caught: unknown) => caught as Error);
    expect(hook.requests).toHaveLength(3);
    // The URL's credentials travel as Basic authentication (fetch refuses them in the URL).
    expect(hook.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('someone:hunter2').toString('base64')}`,
    );
    expect(hook.requests[0]?.path).toBe('/hooks/alerts?token=secret');
    expect(error).toBeInstanceOf(Error);
    const port = new URL(hook.url).port;
    expect((error as Error).message).toBe(
      `webhook ops (http://127.0.0.1:${port}/***): HTTP 503 Service Unavailable: down for maintenance (after 3 tries)`,
    );
    expect((error as Error).message).not.toMatch(/hunter2|secret|hooks/);
  });

  it('does not retry an answer that another try would get again (4xx)', async () => {
    const hook = await receiver(() => ({ status: 404, body: 'no_service' }));
    await expect(new WebhookChannel('ops', { url: hook.url, backoffMs: 5 }).send(message)).rejects.toThrow(
      /HTTP 404 Not Found: no_service$/,
    );
    expect(hook.requests).toHaveLength(1);
  });

  it('times out a receiver that does not answer, and tries again', async () => {
    const hook = await receiver((index) => ({ status: 200, delayMs: index === 0 ? 5_000 : 0 }));
    const started = Date.now();
    await new WebhookChannel('ops', { url: hook.url, timeoutMs: 200, retries: 1, backoffMs: 10 }).send(
      message,
    );
    expect(hook.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(4_000);

    const silent = await receiver(() => ({ status: 200, delayMs: 5_000 }));
    await expect(
      new WebhookChannel('ops', { url: silent.url, timeoutMs: 100, retries: 1, backoffMs: 10 }).send(message),
    ).rejects.toThrow(/: no answer within 100 ms \(after 2 tries\)$/);
  });

  it('says when nothing listens at the URL', async () => {
    const port = await closedPort();
    await expect(
      new WebhookChannel('ops', { url: `http://127.0.0.1:${port}/x`, retries: 1, backoffMs: 5 }).send(
        message,
      ),
    ).rejects.toThrow(
      `webhook ops (http://127.0.0.1:${port}/***): cannot reach the server: ECONNREFUSED (after 2 tries)`,
    );
  });

  it('hides the path of a webhook URL even when the answer quotes it', async () => {
    const secret = '/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx';
    const hook = await receiver(() => ({ status: 404, body: `Cannot POST ${secret}` }));
    const url = `${new URL(hook.url).origin}${secret}`;
    const error = await new WebhookChannel('ops', { url })
      .send(message)
      .catch((caught: unknown) => caught as Error);
    expect(hook.requests[0]?.path).toBe(secret);
    expect((error as Error).message).toBe(
      `webhook ops (${new URL(hook.url).origin}/***): HTTP 404 Not Found: Cannot POST /***`,
    );
  });

  it('hides every form of its URL in a text, and nothing else', () => {
    const url = 'https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx';
    const channel = new WebhookChannel('ops', { url });
    expect(
      channel.redact(`POST ${url} failed; path /services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx`),
    ).toBe('POST https://hooks.slack.com/*** failed; path /***');
    expect(channel.redact('disk full at /services/other')).toBe('disk full at /services/other');
    expect(redactWebhookUrl(url)).toBe('https://hooks.slack.com/***');
    expect(redactWebhookUrl('https://user:pw@example.test:8443/x?token=1')).toBe(
      'https://example.test:8443/***',
    );
    expect(redactWebhookUrl('not a url')).toBe('(not a URL)');
  });

  it('refuses a URL that does not parse without quoting it', () => {
    const url = 'https://hooks.example.test:99999/services/s3cr3t';
    expect(() => new WebhookChannel('ops', { url })).toThrow(ConfigError);
    expect(() => new WebhookChannel('ops', { url })).toThrow(
      /^alert channel ops: the webhook URL is not a valid URL$/,
    );
  });
});
