/**
 * Alert rules, without I/O: the configuration users write (channels, rules, the group window) and the pure
 * functions that turn what happened — a finished run with its tasks and attempts, runs still going past their
 * SLA, the lake's layer volumes — into alerts. Each alert carries a stable `cause`: repeats of one cause are
 * grouped by the metadata store (src/metadata) and sent by the channels in src/alerts.
 *
 * What one cause is: the same thing going wrong in the same place, whatever the run —
 * - `run_failed:<pipeline>:<task>`: that task of that pipeline failed (a run that failed without a failed task:
 *   `run_failed:<pipeline>`);
 * - `expectation_failed:<pipeline>:<task>:<expectation>` and `expectation_warned:…`: that check on that table;
 * - `sla_missed:<pipeline>`: the pipeline's runs are late;
 * - `task_peak_rss:<pipeline>:<task>`: that task used too much memory;
 * - `layer_size:<layer>`: that layer of the lake is too big.
 * Each alert also names its `occurrence` (the run it is about, when there is one): the same cause reported again
 * for the same run — by a second scheduler, or on the next SLA check — is the same fact, not a new occurrence.
 */
import { latestAttempts } from './run-state.js';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { ExpectationAction, ExpectationResult } from './expectations.js';
import { parseDuration } from './schedule.js';

export const ALERT_KINDS = [
  'run_failed',
  'expectation_failed',
  'expectation_warned',
  'sla_missed',
  'task_peak_rss',
  'layer_size',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertSeverity = 'error' | 'warning';

/** The areas of the lake a layer_size rule can watch (LakeArea in src/table/lake-layout.ts). */
export const ALERT_LAYERS = ['landing', 'bronze', 'silver', 'gold', 'quarantine', 'system'] as const;

const DEFAULT_SEVERITY: Record<AlertKind, AlertSeverity> = {
  run_failed: 'error',
  expectation_failed: 'error',
  expectation_warned: 'warning',
  sla_missed: 'warning',
  task_peak_rss: 'warning',
  layer_size: 'warning',
};

// ── configuration ──────────────────────────────────────────────────────────────────────────────────────

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** `1048576`, `512MiB`, `2 GB`, `1.5GiB` → bytes. */
export function parseBytes(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = UNITS[(match?.[2] || 'b').toLowerCase()];
  if (!match || unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${Number(value.toFixed(1))} ${units[unit]}`;
}

const duration = z
  .string()
  .regex(/^\s*[1-9]\d*\s*(s|m|h|d)\s*$/, 'a duration such as 90s, 30m, 6h or 1d (not zero)');
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. MEDALLION_SMTP_PASSWORD');
const byteSize = z.union([z.number(), z.string()]).transform((value, context) => {
  const bytes = parseBytes(value);
  if (bytes === undefined) {
    context.addIssue({ code: 'custom', message: 'a size in bytes, e.g. 1073741824, "512MiB" or "2GB"' });
    return z.NEVER;
  }
  return bytes;
});
const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'an http:// or https:// URL');
const channelName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . and -');
const address = z.string().regex(/^[^\s@]+@[^\s@]+$|^.*<[^\s@<>]+@[^\s@<>]+>$/, 'an e-mail address');
const secretInline = (what: string, env: string): z.ZodOptional<z.ZodNever> =>
  z
    .never({ error: `do not write the ${what} in the file: name an environment variable with ${env}` })
    .optional();

const webhookSchema = z
  .strictObject({
    /** Where to POST; a Slack incoming-webhook URL works as it is. */
    url: httpUrl.optional(),
    /** Or: the environment variable holding the URL (Slack's URLs are secrets). */
    urlEnv: envName.optional(),
    /** One request's time limit (default 10 s). */
    timeoutMs: z.number().int().positive().optional(),
    /** Further tries after a network error, a timeout or a 5xx/429 answer (default 2). */
    retries: z.number().int().min(0).max(10).optional(),
  })
  .refine((webhook) => (webhook.url === undefined) !== (webhook.urlEnv === undefined), {
    message: 'give either url or urlEnv',
  });

const emailSchema = z
  .strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535),
    /** TLS from the start (port 465); false (default) upgrades with STARTTLS when the server offers it. */
    secure: z.boolean().optional(),
    user: z.string().min(1).optional(),
    /** The environment variable holding the password (never the password itself). */
    passwordEnv: envName.optional(),
    password: secretInline('password', 'passwordEnv'),
    from: address,
    to: z.array(address).min(1),
    /** Connection, greeting and socket time limit (default 10 s). */
    timeoutMs: z.number().int().positive().optional(),
  })
  .refine((email) => email.passwordEnv === undefined || email.user !== undefined, {
    message: 'passwordEnv needs a user',
    path: ['user'],
  });

const channelSchema = z
  .strictObject({ webhook: webhookSchema.optional(), email: emailSchema.optional() })
  .refine((channel) => (channel.webhook === undefined) !== (channel.email === undefined), {
    message: 'a channel is either { "webhook": {…} } or { "email": {…} }',
  });

const common = {
  /** Only these pipelines (default: every pipeline). */
  pipelines: z.array(z.string().min(1)).min(1).optional(),
  /** Names of channels to send to. */
  channels: z.array(channelName).min(1),
  severity: z.enum(['error', 'warning']).optional(),
};

const ruleSchema = z.discriminatedUnion('on', [
  z.strictObject({ on: z.literal('run_failed'), ...common }),
  z.strictObject({ on: z.literal('expectation_failed'), ...common }),
  z.strictObject({
    on: z.literal('expectation_warned'),
    /** A row check counts when at least this many rows failed it (default 1); a table check always counts. */
    minFailingRows: z.number().int().min(1).optional(),
    ...common,
  }),
  z.strictObject({
    on: z.literal('sla_missed'),
    /** Overrides the pipeline's own `sla`. */
    sla: duration.optional(),
    ...common,
  }),
  z.strictObject({
    on: z.literal('task_peak_rss'),
    /** A try whose peak resident memory reached this. */
    bytes: byteSize,
    /** Only these task ids (default: every task). */
    tasks: z.array(z.string().min(1)).min(1).optional(),
    ...common,
  }),
  z.strictObject({
    on: z.literal('layer_size'),
    layer: z.enum(ALERT_LAYERS),
    /** The layer's objects add up to at least this. */
    bytes: byteSize,
    ...common,
  }),
]);

export const alertConfigSchema = z
  .strictObject({
    channels: z.record(channelName, channelSchema),
    rules: z.array(ruleSchema),
    /** Repeats of one cause within this long of its last alert are counted, not sent (default 1h). */
    groupWindow: duration.default('1h'),
  })
  .superRefine((config, context) => {
    for (const [index, rule] of config.rules.entries()) {
      for (const [position, channel] of rule.channels.entries()) {
        if (!Object.hasOwn(config.channels, channel)) {
          context.addIssue({
            code: 'custom',
            path: ['rules', index, 'channels', position],
            message: `no channel named "${channel}" (known: ${Object.keys(config.channels).join(', ') || 'none'})`,
          });
        }
      }
    }
  });

/** What users write (sizes may be strings, groupWindow may be left out). */
export type AlertConfigInput = z.input<typeof alertConfigSchema>;
export type AlertConfig = z.output<typeof alertConfigSchema>;
export type AlertRule = AlertConfig['rules'][number];
export type AlertChannelConfig = AlertConfig['channels'][string];
export type WebhookChannelConfig = NonNullable<AlertChannelConfig['webhook']>;
export type EmailChannelConfig = NonNullable<AlertChannelConfig['email']>;

/**
 * Checks an alert configuration at the boundary and returns it typed, sizes in bytes; every problem names its
 * field (`rules.2.channels.0`) and `source` (the file it came from).
 */
export function parseAlertConfig(value: unknown, source = 'alerts'): AlertConfig {
  const parsed = alertConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new ConfigError(
      `alert configuration is invalid at ${field || 'the top level'}: ${issue?.message}`,
      {
        context: { file: source, ...(field && { field }) },
        hint:
          'write { "channels": { NAME: { "webhook": { "url": … } } or { "email": { "host", "port", "from", "to" } } }, ' +
          '"rules": [{ "on": "run_failed" | "expectation_failed" | "expectation_warned" | "sla_missed" | ' +
          '"task_peak_rss" | "layer_size", "channels": [NAME] }], "groupWindow": "1h" }',
      },
    );
  }
  return parsed.data;
}

/** The group window in milliseconds. */
export function groupWindowMs(config: AlertConfig): number {
  return parseDuration(config.groupWindow, 'groupWindow');
}

// ── facts ──────────────────────────────────────────────────────────────────────────────────────────────

/** A run as the rules need it (RunRecord fits). */
export interface RunFacts {
  id: string;
  pipeline: string;
  state: string;
  trigger: string;
  logicalDate: string;
  dataIntervalEnd: string;
  createdAt: string;
  finishedAt: string | null;
}

/** A task instance as the rules need it (TaskInstanceRecord fits). */
export interface TaskFacts {
  taskId: string;
  state: string;
  tryNumber: number;
}

/** An attempt as the rules need it (AttemptRecord fits). */
export interface AttemptFacts {
  taskId: string;
  attempt: number;
  state: string;
  reason: string | null;
  metrics: { peakRssBytes?: number } | null;
  /** A table task's report carries `data.table.expectations`; a try a `fail` expectation broke, `data.expectations`. */
  output: unknown;
}

/** A pipeline as the rules need it (PipelineDefinition fits). */
export interface PipelineFacts {
  name: string;
  /** A run not finished this long after its scheduled start has missed its SLA. */
  sla?: string;
}

/** One layer's volume (LayerVolume from src/runner/layer-health.ts fits). */
export interface LayerVolumeFacts {
  layer: string;
  bytes: number;
  objects?: number;
}

export type AlertFacts = Record<string, string | number | null>;

/** Something to tell someone, before grouping. */
export interface Alert {
  /** Stable key: repeats of one cause are grouped. */
  cause: string;
  kind: AlertKind;
  pipeline: string | null;
  severity: AlertSeverity;
  title: string;
  text: string;
  facts: AlertFacts;
  /** The run it is about, if any. */
  runId: string | null;
  /** What makes a report of this cause the same fact again (the run id); null: every report is new. */
  occurrence: string | null;
  /** Names of the configured channels to send it to. */
  channels: string[];
}

// ── evaluation ─────────────────────────────────────────────────────────────────────────────────────────

function applies(rule: AlertRule, pipeline: string | undefined): boolean {
  return !rule.pipelines || (pipeline !== undefined && rule.pipelines.includes(pipeline));
}

function rulesFor<K extends AlertKind>(
  config: AlertConfig,
  kind: K,
  pipeline: string | undefined,
): Extract<AlertRule, { on: K }>[] {
  return config.rules.filter(
    (rule): rule is Extract<AlertRule, { on: K }> => rule.on === kind && applies(rule, pipeline),
  );
}

type Draft = Omit<Alert, 'severity' | 'channels' | 'kind'>;

function fromRule(rule: AlertRule, draft: Draft): Alert {
  return {
    ...draft,
    kind: rule.on,
    severity: rule.severity ?? DEFAULT_SEVERITY[rule.on],
    channels: [...rule.channels],
  };
}

/** One alert per cause: the channels of every rule that raised it, the gravest severity, the first text. */
export function mergeAlerts(alerts: readonly Alert[]): Alert[] {
  const byCause = new Map<string, Alert>();
  for (const alert of alerts) {
    const seen = byCause.get(alert.cause);
    if (!seen) {
      byCause.set(alert.cause, { ...alert, channels: [...new Set(alert.channels)] });
      continue;
    }
    seen.channels = [...new Set([...seen.channels, ...alert.channels])];
    if (alert.severity === 'error') seen.severity = 'error';
  }
  return [...byCause.values()];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isExpectationResult(value: unknown): value is ExpectationResult {
  const record = asRecord(value);
  return (
    record !== undefined &&
    typeof record.name === 'string' &&
    typeof record.passed === 'boolean' &&
    typeof record.failingRows === 'number' &&
    (['warn', 'quarantine', 'fail'] as unknown[]).includes(record.action)
  );
}

/** The expectation results an attempt's output carries (a published version's, or those of one a check broke). */
export function expectationResultsOf(output: unknown): ExpectationResult[] {
  const data = asRecord(asRecord(output)?.data);
  const list = data?.expectations ?? asRecord(data?.table)?.expectations;
  return Array.isArray(list) ? list.filter(isExpectationResult) : [];
}

/** The layer volumes a task reported (the data_quality_checks pipeline's layer_health task: `data.layers`). */
export function layerVolumesOf(output: unknown): LayerVolumeFacts[] {
  const layers = asRecord(asRecord(output)?.data)?.layers;
  if (!Array.isArray(layers)) return [];
  return layers.flatMap((entry) => {
    const layer = asRecord(entry);
    return typeof layer?.layer === 'string' && typeof layer.bytes === 'number'
      ? [
          {
            layer: layer.layer,
            bytes: layer.bytes,
            ...(typeof layer.objects === 'number' && { objects: layer.objects }),
          },
        ]
      : [];
  });
}

const TABLE_CHECKS: ReadonlySet<string> = new Set(['row_count', 'freshness']);

function describeCheck(result: ExpectationResult): string {
  const what =
    result.observed !== undefined && result.observed !== null
      ? `observed ${result.observed}`
      : `${result.failingRows} failing row(s)`;
  const sample = result.samples?.length ? `, e.g. ${JSON.stringify(result.samples[0])}` : '';
  return `${result.type} check, ${what}${sample}`;
}

/**
 * When the run's SLA clock started: the end of its data interval for a scheduled run (when the schedule made
 * it due), its creation for a manual run; none for a backfill (its data is old by design).
 */
export function slaStart(run: RunFacts): Date | undefined {
  if (run.trigger === 'schedule') return new Date(run.dataIntervalEnd);
  if (run.trigger === 'manual') return new Date(run.createdAt);
  return undefined;
}

/** The instant by which the run should have finished, or undefined when no SLA applies. */
export function slaDeadline(run: RunFacts, sla: string | undefined): Date | undefined {
  const start = slaStart(run);
  if (!start || sla === undefined) return undefined;
  return new Date(start.getTime() + parseDuration(sla, 'sla'));
}

function slaAlert(
  rule: Extract<AlertRule, { on: 'sla_missed' }>,
  pipeline: PipelineFacts,
  run: RunFacts,
  now: Date,
): Alert | undefined {
  const sla = rule.sla ?? pipeline.sla;
  const deadline = slaDeadline(run, sla);
  if (!deadline || sla === undefined) return undefined;
  const finished = run.finishedAt === null ? undefined : new Date(run.finishedAt);
  const late = finished ? finished.getTime() > deadline.getTime() : now.getTime() >= deadline.getTime();
  if (!late) return undefined;
  const lateBy = Math.round(((finished ?? now).getTime() - deadline.getTime()) / 60_000);
  const status = finished
    ? `finished ${run.state} at ${run.finishedAt}, ${lateBy} min after its deadline`
    : `is still ${run.state} ${lateBy} min after its deadline`;
  return fromRule(rule, {
    cause: `sla_missed:${pipeline.name}`,
    pipeline: pipeline.name,
    title: `${pipeline.name}: run ${run.id} missed its SLA of ${sla}`,
    text:
      `Run ${run.id} of ${pipeline.name} (logical date ${run.logicalDate}) was due to finish by ` +
      `${deadline.toISOString()} (SLA ${sla} after ${slaStart(run)?.toISOString()}) and ${status}.`,
    facts: {
      pipeline: pipeline.name,
      run: run.id,
      logicalDate: run.logicalDate,
      state: run.state,
      sla,
      deadline: deadline.toISOString(),
    },
    runId: run.id,
    occurrence: run.id,
  });
}

/**
 * The alerts a finished run raises: failed tasks, expectations that failed or warned, tries above a memory
 * threshold, a finish past the SLA, and layers above their size threshold when a task measured them.
 */
export function finishedRunAlerts(
  config: AlertConfig,
  pipeline: PipelineFacts,
  run: RunFacts,
  tasks: readonly TaskFacts[],
  attempts: readonly AttemptFacts[],
): Alert[] {
  const name = pipeline.name;
  const latest = latestAttempts(attempts);
  const base = { pipeline: name, runId: run.id, occurrence: run.id };
  const runFacts = { pipeline: name, run: run.id, logicalDate: run.logicalDate };
  const alerts: Alert[] = [];

  if (run.state === 'failed') {
    const failed = tasks.filter((task) => task.state === 'failed');
    const notRun = tasks.filter((task) => task.state === 'upstream_failed').length;
    const downstream = notRun ? ` ${notRun} downstream task(s) did not run.` : '';
    for (const rule of rulesFor(config, 'run_failed', name)) {
      if (failed.length === 0) {
        alerts.push(
          fromRule(rule, {
            ...base,
            cause: `run_failed:${name}`,
            title: `${name}: run ${run.id} failed`,
            text: `Run ${run.id} of ${name} (logical date ${run.logicalDate}) failed.${downstream}`,
            facts: { ...runFacts, task: null, tries: null, reason: null },
          }),
        );
      }
      for (const task of failed) {
        const reason = latest.get(task.taskId)?.reason ?? 'no reason recorded';
        alerts.push(
          fromRule(rule, {
            ...base,
            cause: `run_failed:${name}:${task.taskId}`,
            title: `${name}: task ${task.taskId} failed`,
            text:
              `Run ${run.id} of ${name} (logical date ${run.logicalDate}) failed: task ${task.taskId} ` +
              `failed after ${task.tryNumber} ${task.tryNumber === 1 ? 'try' : 'tries'}: ${reason}.${downstream}`,
            facts: { ...runFacts, task: task.taskId, tries: task.tryNumber, reason },
          }),
        );
      }
    }
  }

  const failedRules = rulesFor(config, 'expectation_failed', name);
  const warnedRules = rulesFor(config, 'expectation_warned', name);
  if (failedRules.length + warnedRules.length > 0) {
    for (const [taskId, attempt] of latest) {
      for (const result of expectationResultsOf(attempt.output)) {
        if (result.passed) continue;
        const published = result.action !== 'fail';
        const facts = {
          ...runFacts,
          task: taskId,
          expectation: result.name,
          type: result.type,
          action: result.action as ExpectationAction,
          failingRows: result.failingRows,
          observed: result.observed ?? null,
        };
        const draft = (kind: 'expectation_failed' | 'expectation_warned'): Draft => ({
          ...base,
          cause: `${kind}:${name}:${taskId}:${result.name}`,
          title: `${name}: expectation ${result.name} on ${taskId} ${published ? 'warned' : 'failed'}`,
          text:
            `Run ${run.id} of ${name} (logical date ${run.logicalDate}): expectation ${result.name} on ` +
            `${taskId} (${result.action}) did not pass: ${describeCheck(result)}. ` +
            (published
              ? result.action === 'quarantine'
                ? 'The failing rows were quarantined.'
                : 'The rows were kept.'
              : 'The new version was not published.'),
          facts,
        });
        if (!published) {
          for (const rule of failedRules) alerts.push(fromRule(rule, draft('expectation_failed')));
          continue;
        }
        for (const rule of warnedRules) {
          const counts = TABLE_CHECKS.has(result.type) || result.failingRows >= (rule.minFailingRows ?? 1);
          if (counts) alerts.push(fromRule(rule, draft('expectation_warned')));
        }
      }
    }
  }

  for (const rule of rulesFor(config, 'task_peak_rss', name)) {
    const peaks = new Map<string, number>();
    for (const attempt of attempts) {
      const peak = attempt.metrics?.peakRssBytes;
      if (peak === undefined || peak < rule.bytes) continue;
      if (rule.tasks && !rule.tasks.includes(attempt.taskId)) continue;
      peaks.set(attempt.taskId, Math.max(peaks.get(attempt.taskId) ?? 0, peak));
    }
    for (const [taskId, peak] of peaks) {
      alerts.push(
        fromRule(rule, {
          ...base,
          cause: `task_peak_rss:${name}:${taskId}`,
          title: `${name}: task ${taskId} peaked at ${formatBytes(peak)} of memory`,
          text:
            `Run ${run.id} of ${name} (logical date ${run.logicalDate}): task ${taskId} reached a peak ` +
            `resident memory of ${formatBytes(peak)}, at or above the threshold of ${formatBytes(rule.bytes)}.`,
          facts: { ...runFacts, task: taskId, peakRssBytes: peak, thresholdBytes: rule.bytes },
        }),
      );
    }
  }

  const now = new Date(run.finishedAt ?? run.createdAt);
  for (const rule of rulesFor(config, 'sla_missed', name)) {
    const alert = slaAlert(rule, pipeline, run, now);
    if (alert) alerts.push(alert);
  }

  for (const attempt of latest.values()) {
    const volumes = attempt.state === 'success' ? layerVolumesOf(attempt.output) : [];
    if (volumes.length)
      alerts.push(...layerSizeAlerts(config, volumes, { pipeline: name, occurrence: run.id }));
  }
  return mergeAlerts(alerts);
}

/** The alerts for runs of the pipeline still queued or running past their SLA at `now`. */
export function slaAlerts(
  config: AlertConfig,
  pipeline: PipelineFacts,
  runs: readonly RunFacts[],
  now: Date,
): Alert[] {
  const alerts: Alert[] = [];
  for (const rule of rulesFor(config, 'sla_missed', pipeline.name)) {
    for (const run of runs) {
      if (run.pipeline !== pipeline.name || (run.state !== 'queued' && run.state !== 'running')) continue;
      const alert = slaAlert(rule, pipeline, run, now);
      if (alert) alerts.push(alert);
    }
  }
  return mergeAlerts(alerts);
}

/**
 * The alerts for layers at or above their size threshold. `pipeline` (the one that measured them) lets rules
 * limited to some pipelines apply; `occurrence` (e.g. that run's id) makes a second report of the same
 * measurement a repeat.
 */
export function layerSizeAlerts(
  config: AlertConfig,
  volumes: readonly LayerVolumeFacts[],
  context: { pipeline?: string; occurrence?: string } = {},
): Alert[] {
  const alerts: Alert[] = [];
  for (const rule of rulesFor(config, 'layer_size', context.pipeline)) {
    const volume = volumes.find((candidate) => candidate.layer === rule.layer);
    if (!volume || volume.bytes < rule.bytes) continue;
    const objects = volume.objects === undefined ? '' : ` in ${volume.objects} objects`;
    alerts.push(
      fromRule(rule, {
        cause: `layer_size:${rule.layer}`,
        pipeline: context.pipeline ?? null,
        title: `lake layer ${rule.layer} holds ${formatBytes(volume.bytes)}`,
        text:
          `The ${rule.layer} layer holds ${formatBytes(volume.bytes)}${objects}, at or above the threshold ` +
          `of ${formatBytes(rule.bytes)}.`,
        facts: {
          layer: rule.layer,
          bytes: volume.bytes,
          objects: volume.objects ?? null,
          thresholdBytes: rule.bytes,
        },
        runId: null,
        occurrence: context.occurrence ?? null,
      }),
    );
  }
  return mergeAlerts(alerts);
}
