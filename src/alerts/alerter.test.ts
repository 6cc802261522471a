/**
 * End to end: an Alerter over a real metadata store (SQLite, and PostgreSQL when one is running), sending to a
 * real HTTP receiver and a real SMTP server on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseAlertConfig, type AlertConfig } from '../core/alert-rules.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import {
  startSmtpReceiver,
  startWebhookReceiver,
  type SmtpReceiver,
  type WebhookAnswer,
  type WebhookReceiver,
} from '../testing/alert-receivers.js';
import { postgresOrSkip, TestSchemas } from '../testing/postgres.js';
import { Alerter } from './alerter.js';

const T0 = Date.parse('2024-03-01T06:00:00.000Z');
const minutes = (count: number): number => count * 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const pipeline = { name: 'sales', sla: '1h' };

const pgUrl = postgresOrSkip('PostgreSQL alert tests');
const schemas = new TestSchemas(pgUrl);
const dirs: string[] = [];

const backends: { name: string; url: () => Promise<string>; concurrentInProcess: boolean }[] = [
  {
    name: 'SQLite',
    url: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'medallion-alerts-'));
      dirs.push(dir);
      return `sqlite:${path.join(dir, 'metadata.sqlite')}`;
    },
    concurrentInProcess: false,
  },
  ...(pgUrl ? [{ name: 'PostgreSQL', url: async () => schemas.url(), concurrentInProcess: true }] : []),
];

afterAll(async () => {
  await schemas.dropAll();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A scheduled run of `sales` for the 6-hour interval from `logicalDate`, started at `startedAt`. */
async function runningRun(
  store: MetadataStore,
  id: string,
  logicalDate: number,
  startedAt: number,
  taskIds: string[] = ['ingest'],
): Promise<void> {
  const date = iso(logicalDate);
  await store.createRun({
    id,
    pipeline: 'sales',
    logicalDate: date,
    dataIntervalStart: date,
    dataIntervalEnd: iso(logicalDate + minutes(360)),
    trigger: 'schedule',
    params: {},
    tasks: taskIds.map((taskId) => ({ taskId, maxTries: 1 })),
  });
  await store.transitionRun(id, ['queued'], 'running', { startedAt: iso(startedAt) });
}

/** A run of `sales` whose silver.contracts task failed (disk full) and whose gold.summary did not run. */
async function failedRun(
  store: MetadataStore,
  id: string,
  logicalDate: number,
  finishedAt: number,
  reason = 'disk full',
) {
  await runningRun(store, id, logicalDate, finishedAt - minutes(5), ['gold.summary', 'silver.contracts']);
  await store.transitionTask(id, 'silver.contracts', ['scheduled'], 'queued');
  const [attempt] = await store.claimTasks('worker-1', 1, iso(finishedAt - minutes(4)), { runIds: [id] });
  expect(attempt?.taskId).toBe('silver.contracts');
  await store.finishAttempt(id, 'silver.contracts', 1, {
    state: 'failed',
    reason,
    metrics: { durationMs: 1000, peakRssBytes: 1 << 20 },
    finishedAt: iso(finishedAt),
  });
  await store.transitionTask(id, 'silver.contracts', ['running'], 'failed');
  await store.transitionTask(id, 'gold.summary', ['scheduled'], 'upstream_failed');
  await store.transitionRun(id, ['running'], 'failed', { finishedAt: iso(finishedAt) });
  const run = await store.getRun(id);
  if (!run) throw new Error(`run ${id} is missing`);
  return { run, tasks: await store.listTaskInstances(id), attempts: await store.listAttempts(id) };
}

describe.each(backends)('alerts over $name', (backend) => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  let now = T0;
  const clock = (): Date => new Date(now);

  /** The receivers, a store and alerters; the webhook channel posts to the receiver's URL plus `hookPath`. */
  async function setUp(answer?: WebhookAnswer, hookPath = '') {
    now = T0;
    const hook: WebhookReceiver = await startWebhookReceiver(answer);
    closers.push(() => hook.close());
    const smtp: SmtpReceiver = await startSmtpReceiver();
    closers.push(() => smtp.close());
    const url = await backend.url();
    const store = await openMetadataStore(url);
    closers.push(() => store.close());
    const config: AlertConfig = parseAlertConfig({
      channels: {
        ops: { webhook: { url: `${hook.url}${hookPath}`, retries: 1 } },
        mail: {
          email: {
            host: '127.0.0.1',
            port: smtp.port,
            from: 'alerts@example.test',
            to: ['data@example.test'],
          },
        },
      },
      rules: [
        { on: 'run_failed', channels: ['ops', 'mail'] },
        { on: 'sla_missed', channels: ['ops'] },
      ],
      groupWindow: '1h',
    });
    const logged: string[] = [];
    const alerter = (over: Pick<MetadataStore, 'recordAlert' | 'recordAlertDelivery'> = store): Alerter => {
      const created = new Alerter({ config, store: over, clock, log: (line) => logged.push(line) });
      closers.push(() => created.close());
      return created;
    };
    return { hook, smtp, url, store, alerter, logged };
  }

  it('sends the same failure of three runs once to the webhook and once by e-mail, then again after the group window with the count', async () => {
    const { hook, smtp, store, alerter, logged } = await setUp();
    const scheduler = alerter();
    // Another scheduler process, with its own alerter, on the same database.
    const other = alerter();
    const outcomes = [];
    for (const [index, id] of ['run-1', 'run-2', 'run-3'].entries()) {
      now = T0 + minutes(index * 10);
      const { run, tasks, attempts } = await failedRun(store, id, now - minutes(360), now);
      outcomes.push(...(await scheduler.runFinished(pipeline, run, tasks, attempts)));
      // The same run reported again (by the other process) is no new occurrence.
      expect(await other.runFinished(pipeline, run, tasks, attempts)).toMatchObject([
        { cause: 'run_failed:sales:silver.contracts', sent: false },
      ]);
    }
    expect(outcomes).toEqual([
      {
        cause: 'run_failed:sales:silver.contracts',
        sent: true,
        occurrences: 1,
        delivered: ['mail', 'ops'],
        failed: [],
      },
      { cause: 'run_failed:sales:silver.contracts', sent: false, occurrences: 2, delivered: [], failed: [] },
      { cause: 'run_failed:sales:silver.contracts', sent: false, occurrences: 3, delivered: [], failed: [] },
    ]);
    expect(hook.requests).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    const first = hook.payloads()[0] as { text: string };
    expect(first.text).toContain('*sales: task silver.contracts failed*');
    expect(first.text).toContain('Run run-1 of sales');
    expect(first.text).toContain('failed after 1 try: disk full. 1 downstream task(s) did not run.');
    expect(first.text).toContain('First occurrence.');
    expect(smtp.messages[0]?.subject).toBe(
      '[medallion error] sales: task silver.contracts failed [run_failed:sales:silver.contracts]',
    );

    // An hour after the first alert, the next failure is sent again and stands for the ones grouped with it.
    now = T0 + minutes(60);
    const { run, tasks, attempts } = await failedRun(store, 'run-4', now - minutes(360), now);
    expect(await scheduler.runFinished(pipeline, run, tasks, attempts)).toMatchObject([
      { sent: true, occurrences: 4, delivered: ['mail', 'ops'] },
    ]);
    expect(hook.requests).toHaveLength(2);
    expect(smtp.messages).toHaveLength(2);
    const again = hook.payloads()[1] as { text: string };
    expect(again.text).toContain('Run run-4 of sales');
    expect(again.text).toContain(
      `3 occurrence(s) since the last alert at ${iso(T0)}; 4 in all since ${iso(T0)}.`,
    );
    expect(smtp.messages[1]?.subject).toBe(
      '[medallion error] sales: task silver.contracts failed (3 times) [run_failed:sales:silver.contracts]',
    );
    expect(smtp.messages[1]?.text).toContain('3 occurrence(s) since the last alert');
    expect(await store.listAlerts()).toMatchObject([
      {
        cause: 'run_failed:sales:silver.contracts',
        occurrences: 4,
        sentOccurrences: 4,
        firstAt: iso(T0),
        lastSentAt: iso(T0 + minutes(60)),
        lastRunId: 'run-4',
        lastError: null,
      },
    ]);
    expect(logged).toEqual([]);
  });

  it('sends a run that finished once when two schedulers report it at the same moment', async () => {
    const { hook, smtp, store, url, alerter } = await setUp();
    const second = backend.concurrentInProcess ? await openMetadataStore(url) : store;
    if (second !== store) closers.push(() => second.close());
    const { run, tasks, attempts } = await failedRun(store, 'run-1', T0 - minutes(360), T0);
    const outcomes = await Promise.all([
      alerter(store).runFinished(pipeline, run, tasks, attempts),
      alerter(second).runFinished(pipeline, run, tasks, attempts),
    ]);
    expect(outcomes.flat().filter((outcome) => outcome.sent)).toHaveLength(1);
    expect(hook.requests).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);

    // A scheduler that does not wait for its alerts drains them before it stops.
    now = T0 + minutes(61);
    const next = await failedRun(store, 'run-2', T0, now);
    const background = alerter(store);
    void background.runFinished(pipeline, next.run, next.tasks, next.attempts);
    await background.drain();
    expect(hook.requests).toHaveLength(2);
    expect(smtp.messages).toHaveLength(2);
  });

  it('reports a run past its SLA once however often it is checked, and groups the next late run', async () => {
    const { hook, store, alerter } = await setUp();
    const scheduler = alerter();
    const late = (id: string, logicalDate: number) =>
      runningRun(store, id, logicalDate, logicalDate + minutes(360));
    // Due at 06:00 with an SLA of 1h: late from 07:00.
    await late('run-1', T0 - minutes(360));
    for (const at of [minutes(30), minutes(59)]) {
      now = T0 + at;
      expect(
        await scheduler.checkSla(pipeline, await store.listRuns({ states: ['running'] }), clock()),
      ).toEqual([]);
    }
    for (let pass = 0; pass < 5; pass += 1) {
      now = T0 + minutes(61 + pass);
      await scheduler.checkSla(pipeline, await store.listRuns({ states: ['queued', 'running'] }), clock());
    }
    expect(hook.requests).toHaveLength(1);
    expect((hook.payloads()[0] as { text: string }).text).toContain('sales: run run-1 missed its SLA of 1h');
    // A second late run within the hour is counted with the first, not sent; a third after the hour is sent.
    await late('run-2', T0 - minutes(330));
    now = T0 + minutes(91);
    const running = async () => store.listRuns({ states: ['running'] });
    expect(await scheduler.checkSla(pipeline, await running(), clock())).toMatchObject([
      { cause: 'sla_missed:sales', sent: false, occurrences: 2 },
    ]);
    await late('run-3', T0 - minutes(300));
    now = T0 + minutes(121);
    expect(await scheduler.checkSla(pipeline, await running(), clock())).toMatchObject([
      { cause: 'sla_missed:sales', sent: true, occurrences: 3 },
    ]);
    expect(hook.requests).toHaveLength(2);
    const second = (hook.payloads()[1] as { text: string }).text;
    expect(second).toContain('Run run-3 of sales');
    expect(second).toContain('2 occurrence(s) since the last alert');
  });

  it('keeps a failed delivery in the alert row, still sends on the other channels, and never throws', async () => {
    const { hook, smtp, store, alerter, logged } = await setUp(() => ({
      status: 500,
      body: 'receiver broken',
    }));
    const { run, tasks, attempts } = await failedRun(store, 'run-1', T0 - minutes(360), T0);
    const [outcome] = await alerter().runFinished(pipeline, run, tasks, attempts);
    const port = new URL(hook.url).port;
    const error = `webhook ops (http://127.0.0.1:${port}/***): HTTP 500 Internal Server Error: receiver broken (after 2 tries)`;
    expect(outcome).toEqual({
      cause: 'run_failed:sales:silver.contracts',
      sent: true,
      occurrences: 1,
      delivered: ['mail'],
      failed: [{ channel: 'ops', error }],
    });
    expect(hook.requests).toHaveLength(2);
    expect(smtp.messages).toHaveLength(1);
    expect(logged).toEqual([`medallion alerts: run_failed:sales:silver.contracts: ${error}`]);
    expect(await store.listAlerts()).toMatchObject([{ lastError: error, lastErrorAt: iso(T0) }]);

    // A store that cannot be written: nothing is sent, the caller gets no error.
    const broken = {
      recordAlert: () => Promise.reject(new Error('database is locked')),
      recordAlertDelivery: () => Promise.resolve(),
    };
    expect(await alerter(broken).runFinished(pipeline, run, tasks, attempts)).toEqual([]);
    expect(logged.at(-1)).toBe(
      'medallion alerts: cannot record run_failed:sales:silver.contracts: database is locked',
    );
    expect(smtp.messages).toHaveLength(1);
  });

  it('never logs, stores or sends the secret path of a webhook URL, even where an error quotes the URL', async () => {
    const token = 'abcdefghijklmnopqrstuvwx';
    const secretPath = `/T0123ABCD/B0123ABCD/${token}`;
    const { hook, smtp, store, alerter, logged } = await setUp(
      () => ({ status: 500, body: `Cannot POST /hooks/alerts${secretPath}` }),
      secretPath,
    );
    const url = `${hook.url}${secretPath}`;
    const host = new URL(url).host;
    const { run, tasks, attempts } = await failedRun(
      store,
      'run-1',
      T0 - minutes(360),
      T0,
      `POST ${url}: 500`,
    );
    const [outcome] = await alerter().runFinished(pipeline, run, tasks, attempts);

    expect(hook.requests[0]?.path).toBe(`/hooks/alerts${secretPath}`);
    const error = `webhook ops (http://${host}/***): HTTP 500 Internal Server Error: Cannot POST /*** (after 2 tries)`;
    expect(outcome?.failed).toEqual([{ channel: 'ops', error }]);
    expect(logged).toEqual([`medallion alerts: run_failed:sales:silver.contracts: ${error}`]);
    const [stored] = await store.listAlerts();
    expect(stored?.lastError).toBe(error);
    expect(stored?.text).toContain(`POST http://${host}/***: 500`);
    const everything = [
      ...logged,
      JSON.stringify(stored),
      JSON.stringify(outcome),
      ...hook.requests.map((request) => request.body),
      ...smtp.messages.map((mail) => `${mail.subject}\n${mail.text}`),
    ];
    expect(smtp.messages).toHaveLength(1);
    for (const text of everything) expect(text).not.toContain(token);
  });
});
