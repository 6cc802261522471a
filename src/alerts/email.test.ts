import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, describeError } from '../core/errors.js';
import { closedPort, startSmtpReceiver, type SmtpReceiver } from '../testing/alert-receivers.js';
import { AlertDeliveryError, type AlertMessage } from './channel.js';
import { EmailChannel } from './email.js';

const message: AlertMessage = {
  cause: 'expectation_failed:sales:silver.contracts:montant_positive',
  kind: 'expectation_failed',
  pipeline: 'sales',
  severity: 'error',
  title: 'sales: expectation montant_positive on silver.contracts failed',
  text:
    'Run run-1 of sales (logical date 2024-03-01T00:00:00.000Z): expectation montant_positive on ' +
    'silver.contracts (fail) did not pass: between check, 12 failing row(s). The new version was not published — ünïcödé.',
  facts: { pipeline: 'sales', run: 'run-1', failingRows: 12, observed: null },
  runId: 'run-1',
  occurrence: 'run-1',
  channels: ['mail'],
  at: '2024-03-01T00:10:00.000Z',
  occurrences: 1,
  grouped: 1,
  firstAt: '2024-03-01T00:10:00.000Z',
  previousSentAt: null,
};

const servers: SmtpReceiver[] = [];
const channels: EmailChannel[] = [];
afterEach(async () => {
  await Promise.all(channels.splice(0).map((channel) => channel.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function smtp(auth?: { user: string; password: string }): Promise<SmtpReceiver> {
  const server = await startSmtpReceiver(auth);
  servers.push(server);
  return server;
}

function channel(...args: ConstructorParameters<typeof EmailChannel>): EmailChannel {
  const created = new EmailChannel(...args);
  channels.push(created);
  return created;
}

const base = {
  host: '127.0.0.1',
  from: 'medallion <alerts@example.test>',
  to: ['data@example.test', 'oncall@example.test'],
};

describe('the e-mail channel', () => {
  it('delivers a plain-text message naming the pipeline and the cause through a real SMTP server', async () => {
    const server = await smtp();
    await channel('mail', { ...base, port: server.port, secure: false }).send(message);
    expect(server.messages).toHaveLength(1);
    const [mail] = server.messages;
    expect(mail?.from).toBe('alerts@example.test');
    expect(mail?.to).toEqual(['data@example.test', 'oncall@example.test']);
    expect(mail?.subject).toBe(
      '[medallion error] sales: expectation montant_positive on silver.contracts failed ' +
        '[expectation_failed:sales:silver.contracts:montant_positive]',
    );
    expect(mail?.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(mail?.headers.get('x-medallion-cause')).toBe(message.cause);
    expect(mail?.text).toContain('ERROR: sales: expectation montant_positive on silver.contracts failed');
    expect(mail?.text).toContain('12 failing row(s). The new version was not published — ünïcödé.');
    expect(mail?.text).toContain('First occurrence.');
    expect(mail?.text).toContain('  failingRows: 12');
    expect(mail?.text).not.toContain('observed');
    expect(mail?.text).toContain(`Cause: ${message.cause}`);
  });

  it('logs in with the password from the environment variable the configuration names', async () => {
    const server = await smtp({ user: 'alerts', password: 's3cret' });
    const config = { ...base, port: server.port, user: 'alerts', passwordEnv: 'TEST_SMTP_PASSWORD' };
    await channel('mail', config, { TEST_SMTP_PASSWORD: 's3cret' }).send(message);
    expect(server.messages.map((mail) => mail.user)).toEqual(['alerts']);

    const error = await channel('mail', config, { TEST_SMTP_PASSWORD: 'wrong' })
      .send(message)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AlertDeliveryError);
    expect(describeError(error)).toMatch(
      new RegExp(`^e-mail mail \\(smtp://127\\.0\\.0\\.1:${server.port}\\): .*Invalid username or password`),
    );
    expect(describeError(error)).not.toContain('wrong');
    expect(server.messages).toHaveLength(1);
  });

  it('refuses to start when the environment variable holding the password is not set', () => {
    const create = (): EmailChannel =>
      channel('mail', { ...base, port: 25, user: 'alerts', passwordEnv: 'TEST_SMTP_PASSWORD' }, {});
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(/TEST_SMTP_PASSWORD \(the SMTP password\) is not set/);
  });

  it('says which server it could not reach', async () => {
    const port = await closedPort();
    await expect(channel('mail', { ...base, port, timeoutMs: 2_000 }).send(message)).rejects.toThrow(
      new RegExp(`^e-mail mail \\(smtp://127\\.0\\.0\\.1:${port}\\): .*ECONNREFUSED`),
    );
  });
});
