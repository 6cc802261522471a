import { describe, expect, it } from 'vitest';
import {
  expectationResultsOf,
  finishedRunAlerts,
  formatBytes,
  layerSizeAlerts,
  parseAlertConfig,
  parseBytes,
  slaAlerts,
  slaDeadline,
  type AlertConfigInput,
  type AttemptFacts,
  type RunFacts,
  type TaskFacts,
} from './alert-rules.js';
import { ConfigError, describeError } from './errors.js';
import type { ExpectationResult } from './expectations.js';

const channels: AlertConfigInput['channels'] = {
  ops: { webhook: { url: 'https://hooks.example.test/alerts' } },
  mail: {
    email: { host: 'smtp.example.test', port: 587, from: 'alerts@example.test', to: ['data@example.test'] },
  },
};

function config(rules: AlertConfigInput['rules'], extra: Partial<AlertConfigInput> = {}) {
  return parseAlertConfig({ channels, rules, ...extra });
}

const run = (overrides: Partial<RunFacts> = {}): RunFacts => ({
  id: 'run-1',
  pipeline: 'sales',
  state: 'failed',
  trigger: 'schedule',
  logicalDate: '2024-03-01T00:00:00.000Z',
  dataIntervalEnd: '2024-03-01T06:00:00.000Z',
  createdAt: '2024-03-01T06:00:01.000Z',
  finishedAt: '2024-03-01T06:20:00.000Z',
  ...overrides,
});

const check = (overrides: Partial<ExpectationResult>): ExpectationResult => ({
  name: 'montant_positive',
  type: 'between',
  action: 'warn',
  passed: false,
  failingRows: 3,
  samples: [{ montant: -1 }],
  ...overrides,
});

const attempt = (overrides: Partial<AttemptFacts> & { taskId: string }): AttemptFacts => ({
  attempt: 1,
  state: 'success',
  reason: null,
  metrics: { peakRssBytes: 100 },
  output: null,
  ...overrides,
});

/** A failed run: ingest succeeded, silver.contracts failed twice, gold.summary did not run. */
const failedTasks: TaskFacts[] = [
  { taskId: 'gold.summary', state: 'upstream_failed', tryNumber: 0 },
  { taskId: 'ingest', state: 'success', tryNumber: 1 },
  { taskId: 'silver.contracts', state: 'failed', tryNumber: 2 },
];
const failedAttempts: AttemptFacts[] = [
  attempt({ taskId: 'ingest' }),
  attempt({ taskId: 'silver.contracts', state: 'failed', reason: 'first problem' }),
  attempt({ taskId: 'silver.contracts', attempt: 2, state: 'failed', reason: 'disk full' }),
];

describe('alert configuration', () => {
  it('reads channels, rules and sizes, and groups for an hour unless told otherwise', () => {
    const parsed = config([
      { on: 'run_failed', channels: ['ops', 'mail'] },
      { on: 'task_peak_rss', bytes: '1.5GiB', channels: ['ops'] },
      { on: 'layer_size', layer: 'silver', bytes: 2_000_000, channels: ['mail'] },
    ]);
    expect(parsed.groupWindow).toBe('1h');
    expect(parsed.rules[1]).toEqual({ on: 'task_peak_rss', bytes: 1_610_612_736, channels: ['ops'] });
    expect(parsed.rules[2]).toMatchObject({ bytes: 2_000_000 });
    expect(config([], { groupWindow: '15m' }).groupWindow).toBe('15m');
  });

  it('rejects a rule naming a channel that is not configured, naming the field', () => {
    const error = (() => {
      try {
        config([{ on: 'run_failed', channels: ['ops', 'pager'] }]);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).context.field).toBe('rules.0.channels.1');
    expect(describeError(error)).toMatch(
      /^alerts: alert configuration is invalid at rules\.0\.channels\.1: no channel named "pager" \(known: ops, mail\)/,
    );
  });

  it('refuses a password written in the file and points at passwordEnv', () => {
    const email = { host: 'h', port: 25, from: 'a@b.test', to: ['c@d.test'], user: 'u', password: 'hunter2' };
    expect(() => parseAlertConfig({ channels: { mail: { email } }, rules: [] }, 'alerts.json')).toThrow(
      /^alert configuration is invalid at channels\.mail\.email\.password: do not write the password in the file: name an environment variable with passwordEnv$/,
    );
  });

  it('rejects what it does not know, each problem at its field', () => {
    const cases: [unknown, RegExp][] = [
      [
        { channels, rules: [{ on: 'disk_full', channels: ['ops'] }] },
        /at rules\.0\.on: Invalid discriminator/,
      ],
      [
        { channels, rules: [{ on: 'run_failed', channels: ['ops'], when: 'always' }] },
        /at rules\.0: Unrecognized key: "when"/,
      ],
      [{ channels: { x: { webhook: {} } }, rules: [] }, /at channels\.x\.webhook: give either url or urlEnv/],
      [
        { channels: { x: { webhook: { url: 'ftp://h/' } } }, rules: [] },
        /at channels\.x\.webhook\.url: an http/,
      ],
      [{ channels: { x: {} }, rules: [] }, /at channels\.x: a channel is either/],
      [
        { channels, rules: [{ on: 'layer_size', layer: 'gold', bytes: '12 parsecs', channels: ['ops'] }] },
        /at rules\.0\.bytes: a size in bytes/,
      ],
      [{ channels, rules: [], groupWindow: '0h' }, /at groupWindow: a duration/],
      [
        { channels, rules: [{ on: 'expectation_warned', minFailingRows: 0, channels: ['ops'] }] },
        /at rules\.0\.minFailingRows/,
      ],
    ];
    for (const [value, message] of cases)
      expect(() => parseAlertConfig(value), JSON.stringify(value)).toThrow(message);
  });

  it('reads and writes byte sizes the way people write them', () => {
    expect(parseBytes('512MiB')).toBe(536_870_912);
    expect(parseBytes('2 GB')).toBe(2_000_000_000);
    expect(parseBytes('1024')).toBe(1024);
    expect(parseBytes(0)).toBeUndefined();
    expect(parseBytes('-3MB')).toBeUndefined();
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12)).toBe('12 B');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3 GiB');
  });
});

describe('alerts for a finished run', () => {
  it('raises one alert per failed task, the same cause whatever the run', () => {
    const rules = config([{ on: 'run_failed', channels: ['ops', 'mail'] }]);
    const [alert, ...rest] = finishedRunAlerts(rules, { name: 'sales' }, run(), failedTasks, failedAttempts);
    expect(rest).toEqual([]);
    expect(alert).toEqual({
      cause: 'run_failed:sales:silver.contracts',
      kind: 'run_failed',
      pipeline: 'sales',
      severity: 'error',
      title: 'sales: task silver.contracts failed',
      text:
        'Run run-1 of sales (logical date 2024-03-01T00:00:00.000Z) failed: task silver.contracts failed after ' +
        '2 tries: disk full. 1 downstream task(s) did not run.',
      facts: {
        pipeline: 'sales',
        run: 'run-1',
        logicalDate: '2024-03-01T00:00:00.000Z',
        task: 'silver.contracts',
        tries: 2,
        reason: 'disk full',
      },
      runId: 'run-1',
      occurrence: 'run-1',
      channels: ['ops', 'mail'],
    });
    const next = finishedRunAlerts(
      rules,
      { name: 'sales' },
      run({ id: 'run-2' }),
      failedTasks,
      failedAttempts,
    );
    expect(next.map((candidate) => [candidate.cause, candidate.occurrence])).toEqual([
      ['run_failed:sales:silver.contracts', 'run-2'],
    ]);
  });

  it('says nothing of a run that succeeded or of a pipeline the rule leaves out', () => {
    const rules = config([{ on: 'run_failed', pipelines: ['audit'], channels: ['ops'] }]);
    expect(finishedRunAlerts(rules, { name: 'sales' }, run(), failedTasks, failedAttempts)).toEqual([]);
    const all = config([{ on: 'run_failed', channels: ['ops'] }]);
    expect(finishedRunAlerts(all, { name: 'sales' }, run({ state: 'success' }), [], [])).toEqual([]);
  });

  it('names the run when it failed without a failed task', () => {
    const rules = config([{ on: 'run_failed', channels: ['ops'] }]);
    const alerts = finishedRunAlerts(rules, { name: 'sales' }, run(), [], []);
    expect(alerts.map((alert) => [alert.cause, alert.title])).toEqual([
      ['run_failed:sales', 'sales: run run-1 failed'],
    ]);
  });

  it('merges the rules that raise the same cause: their channels, the gravest severity', () => {
    const rules = config([
      { on: 'run_failed', channels: ['ops'], severity: 'warning' },
      { on: 'run_failed', pipelines: ['sales'], channels: ['mail', 'ops'] },
    ]);
    const alerts = finishedRunAlerts(rules, { name: 'sales' }, run(), failedTasks, failedAttempts);
    expect(alerts.map((alert) => [alert.cause, alert.severity, alert.channels])).toEqual([
      ['run_failed:sales:silver.contracts', 'error', ['ops', 'mail']],
    ]);
  });

  it('raises a failed expectation from the try it broke, one cause per table and check', () => {
    const rules = config([{ on: 'expectation_failed', channels: ['mail'] }]);
    const broken = [
      check({ action: 'fail', failingRows: 12 }),
      check({ name: 'id_not_null', type: 'not_null', passed: true, failingRows: 0 }),
    ];
    const attempts = [
      attempt({
        taskId: 'silver.contracts',
        state: 'failed',
        output: { detail: 'x', data: { expectations: broken } },
      }),
    ];
    const alerts = finishedRunAlerts(rules, { name: 'sales' }, run(), failedTasks, attempts);
    expect(alerts.map((alert) => [alert.cause, alert.kind, alert.title])).toEqual([
      [
        'expectation_failed:sales:silver.contracts:montant_positive',
        'expectation_failed',
        'sales: expectation montant_positive on silver.contracts failed',
      ],
    ]);
    expect(alerts[0]?.text).toContain(
      'did not pass: between check, 12 failing row(s), e.g. {"montant":-1}. The new version was not published.',
    );
    expect(alerts[0]?.facts).toMatchObject({
      failingRows: 12,
      action: 'fail',
      expectation: 'montant_positive',
    });
  });

  it('raises a warned expectation only from the threshold of failing rows on, and table checks always', () => {
    const results = [
      check({ name: 'few', failingRows: 3 }),
      check({ name: 'many', action: 'quarantine', failingRows: 50 }),
      check({ name: 'volume', type: 'row_count', failingRows: 0, observed: 2 }),
      check({ name: 'fine', passed: true, failingRows: 0 }),
    ];
    const attempts = [
      attempt({
        taskId: 'silver.contracts',
        output: { detail: 'ok', data: { table: { table: 'contracts', expectations: results } } },
      }),
    ];
    const causes = (minFailingRows?: number): string[] =>
      finishedRunAlerts(
        config([{ on: 'expectation_warned', channels: ['ops'], ...(minFailingRows && { minFailingRows }) }]),
        { name: 'sales' },
        run({ state: 'success' }),
        [{ taskId: 'silver.contracts', state: 'success', tryNumber: 1 }],
        attempts,
      ).map((alert) => alert.cause);
    expect(causes()).toEqual([
      'expectation_warned:sales:silver.contracts:few',
      'expectation_warned:sales:silver.contracts:many',
      'expectation_warned:sales:silver.contracts:volume',
    ]);
    expect(causes(10)).toEqual([
      'expectation_warned:sales:silver.contracts:many',
      'expectation_warned:sales:silver.contracts:volume',
    ]);
  });

  it('reads expectation results only where tasks put them', () => {
    expect(expectationResultsOf(null)).toEqual([]);
    expect(expectationResultsOf({ data: { table: { expectations: 'nope' } } })).toEqual([]);
    expect(expectationResultsOf({ data: { expectations: [check({}), { name: 'half' }] } })).toHaveLength(1);
  });

  it("raises a task's memory peak at or above the threshold, once per task and run", () => {
    const rules = config([{ on: 'task_peak_rss', bytes: '1GiB', channels: ['ops'] }]);
    const gib = 1024 ** 3;
    const attempts = [
      attempt({ taskId: 'gold.summary', metrics: { peakRssBytes: gib } }),
      attempt({ taskId: 'silver.contracts', metrics: { peakRssBytes: 1.5 * gib } }),
      attempt({ taskId: 'silver.contracts', attempt: 2, metrics: { peakRssBytes: 2 * gib } }),
      attempt({ taskId: 'ingest', metrics: { peakRssBytes: gib - 1 } }),
      attempt({ taskId: 'bronze.x', metrics: null }),
    ];
    const alerts = finishedRunAlerts(rules, { name: 'sales' }, run({ state: 'success' }), [], attempts);
    expect(alerts.map((alert) => [alert.cause, alert.facts.peakRssBytes])).toEqual([
      ['task_peak_rss:sales:gold.summary', gib],
      ['task_peak_rss:sales:silver.contracts', 2 * gib],
    ]);
    expect(alerts[1]?.title).toBe('sales: task silver.contracts peaked at 2 GiB of memory');
    const only = config([{ on: 'task_peak_rss', bytes: '1GiB', tasks: ['gold.summary'], channels: ['ops'] }]);
    expect(finishedRunAlerts(only, { name: 'sales' }, run(), [], attempts)).toHaveLength(1);
  });

  it('raises a missed SLA for a run that finished after its deadline', () => {
    const rules = config([{ on: 'sla_missed', channels: ['ops'] }]);
    // Scheduled at 06:00 (the end of its interval), finished at 06:20.
    expect(finishedRunAlerts(rules, { name: 'sales', sla: '30m' }, run(), [], [])).toEqual([]);
    const late = finishedRunAlerts(rules, { name: 'sales', sla: '15m' }, run(), [], []);
    expect(late.map((alert) => [alert.cause, alert.occurrence, alert.severity])).toEqual([
      ['sla_missed:sales', 'run-1', 'warning'],
    ]);
    expect(late[0]?.text).toBe(
      'Run run-1 of sales (logical date 2024-03-01T00:00:00.000Z) was due to finish by 2024-03-01T06:15:00.000Z ' +
        '(SLA 15m after 2024-03-01T06:00:00.000Z) and finished failed at 2024-03-01T06:20:00.000Z, 5 min after its deadline.',
    );
    expect(finishedRunAlerts(rules, { name: 'sales' }, run(), [], [])).toEqual([]);
  });
});

describe('alerts for runs past their SLA', () => {
  const rules = config([{ on: 'sla_missed', channels: ['ops'] }]);
  const pipeline = { name: 'sales', sla: '1h' };
  const running = run({ state: 'running', finishedAt: null });

  it('raises a scheduled run not finished an SLA after the end of its interval', () => {
    expect(slaAlerts(rules, pipeline, [running], new Date('2024-03-01T06:59:59Z'))).toEqual([]);
    const alerts = slaAlerts(rules, pipeline, [running], new Date('2024-03-01T07:30:00Z'));
    expect(alerts.map((alert) => [alert.cause, alert.occurrence, alert.title])).toEqual([
      ['sla_missed:sales', 'run-1', 'sales: run run-1 missed its SLA of 1h'],
    ]);
    expect(alerts[0]?.text).toContain('and is still running 30 min after its deadline.');
  });

  it('counts a manual run from its creation, never a backfill, and only unfinished runs of the pipeline', () => {
    const now = new Date('2024-03-02T00:00:00Z');
    const runs = [
      run({
        id: 'manual',
        trigger: 'manual',
        state: 'queued',
        finishedAt: null,
        createdAt: '2024-03-01T23:30:00Z',
      }),
      run({
        id: 'manual-late',
        trigger: 'manual',
        state: 'queued',
        finishedAt: null,
        createdAt: '2024-03-01T22:00:00Z',
      }),
      run({ id: 'backfill', trigger: 'backfill', state: 'running', finishedAt: null }),
      run({ id: 'done', state: 'success' }),
      run({ id: 'other', pipeline: 'audit', state: 'running', finishedAt: null }),
    ];
    expect(slaAlerts(rules, pipeline, runs, now).map((alert) => alert.occurrence)).toEqual(['manual-late']);
    expect(slaDeadline(runs[2] as RunFacts, '1h')).toBeUndefined();
  });

  it("lets a rule's own SLA stand in for the pipeline's, and says nothing without one", () => {
    const now = new Date('2024-03-01T06:45:00Z');
    expect(slaAlerts(rules, { name: 'sales' }, [running], now)).toEqual([]);
    const strict = config([{ on: 'sla_missed', sla: '30m', channels: ['ops'] }]);
    expect(slaAlerts(strict, { name: 'sales' }, [running], now)).toHaveLength(1);
  });
});

describe('alerts for layer volumes', () => {
  it('raises each layer at or above its threshold, one cause per layer', () => {
    const rules = config([
      { on: 'layer_size', layer: 'silver', bytes: '1MiB', channels: ['ops'] },
      { on: 'layer_size', layer: 'gold', bytes: '1MiB', channels: ['ops'] },
      {
        on: 'layer_size',
        layer: 'landing',
        bytes: '1MiB',
        pipelines: ['data_quality_checks'],
        channels: ['mail'],
      },
    ]);
    const volumes = [
      { layer: 'landing', bytes: 5 * 1024 ** 2, objects: 3 },
      { layer: 'silver', bytes: 1024 ** 2, objects: 40 },
      { layer: 'gold', bytes: 1024 ** 2 - 1, objects: 4 },
    ];
    const alerts = layerSizeAlerts(rules, volumes);
    expect(alerts.map((alert) => [alert.cause, alert.text])).toEqual([
      [
        'layer_size:silver',
        'The silver layer holds 1 MiB in 40 objects, at or above the threshold of 1 MiB.',
      ],
    ]);
    const measured = layerSizeAlerts(rules, volumes, {
      pipeline: 'data_quality_checks',
      occurrence: 'run-9',
    });
    expect(measured.map((alert) => [alert.cause, alert.occurrence, alert.channels])).toEqual([
      ['layer_size:silver', 'run-9', ['ops']],
      ['layer_size:landing', 'run-9', ['mail']],
    ]);
  });

  it("reads them from the layer_health task's report when its run finishes", () => {
    const rules = config([{ on: 'layer_size', layer: 'gold', bytes: '1KiB', channels: ['ops'] }]);
    const health = {
      detail: '4 layers checked',
      data: {
        layers: [{ layer: 'gold', objects: 2, bytes: 4096, newest: null, ageHours: null }],
        warnings: [],
      },
    };
    const attempts = [attempt({ taskId: 'layer_health', output: health })];
    const quality = { name: 'data_quality_checks' };
    const alerts = finishedRunAlerts(rules, quality, run({ id: 'dq-1', state: 'success' }), [], attempts);
    expect(alerts.map((alert) => [alert.cause, alert.pipeline, alert.occurrence, alert.title])).toEqual([
      ['layer_size:gold', 'data_quality_checks', 'dq-1', 'lake layer gold holds 4 KiB'],
    ]);
    const failed = [attempt({ taskId: 'layer_health', state: 'failed', output: health })];
    expect(finishedRunAlerts(rules, quality, run(), [], failed)).toEqual([]);
  });
});
