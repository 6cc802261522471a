/**
 * The alerter: evaluates the rules (src/core/alert-rules.ts) on what the scheduler saw, records each alert's
 * cause in the metadata store — which says whether this occurrence is to be sent or grouped with the ones before
 * — and sends what is to be sent on the rule's channels. It never throws into its caller: a failed evaluation,
 * store write or delivery is written to stderr (and a failed delivery kept in the cause's row), and the
 * scheduler goes on. What it logs, stores and sends never quotes a channel's secret (a webhook's URL).
 */
import {
  finishedRunAlerts,
  groupWindowMs,
  layerSizeAlerts,
  parseAlertConfig,
  slaAlerts,
  type Alert,
  type AlertConfig,
  type AttemptFacts,
  type LayerVolumeFacts,
  type PipelineFacts,
  type RunFacts,
  type TaskFacts,
} from '../core/alert-rules.js';
import { describeError } from '../core/errors.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { AlertChannel, AlertMessage } from './channel.js';
import { createChannels, loadAlertConfig } from './config.js';

export interface AlerterOptions {
  config: AlertConfig;
  store: Pick<MetadataStore, 'recordAlert' | 'recordAlertDelivery'>;
  /** Default: built from the configuration (createChannels). */
  channels?: ReadonlyMap<string, AlertChannel>;
  /** Default: the system clock. */
  clock?: () => Date;
  /** Where problems are written (default: stderr). */
  log?: (line: string) => void;
}

/** What became of one alert. */
export interface AlertOutcome {
  cause: string;
  /** False when grouped with earlier occurrences (or a repeat of one already recorded). */
  sent: boolean;
  occurrences: number;
  /** Channels it reached. */
  delivered: string[];
  /** Channels it did not reach, and why. */
  failed: { channel: string; error: string }[];
}

/** Facts already recorded by this process, remembered so that a check repeated every second stays cheap. */
const REMEMBERED = 10_000;

export class Alerter {
  private readonly config: AlertConfig;
  private readonly store: AlerterOptions['store'];
  private readonly channels: ReadonlyMap<string, AlertChannel>;
  private readonly clock: () => Date;
  private readonly log: (line: string) => void;
  private readonly windowMs: number;
  private readonly recorded = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(options: AlerterOptions) {
    this.config = options.config;
    this.store = options.store;
    this.channels = options.channels ?? createChannels(options.config);
    this.clock = options.clock ?? (() => new Date());
    const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.log = (line) => log(this.redact(line));
    this.windowMs = groupWindowMs(options.config);
  }

  /** After a run ended (its final state, finishedAt and summary recorded): failures, checks, memory, SLA. */
  runFinished(
    pipeline: PipelineFacts,
    run: RunFacts,
    tasks: readonly TaskFacts[],
    attempts: readonly AttemptFacts[],
  ): Promise<AlertOutcome[]> {
    return this.guard(`run ${run.id}`, () => finishedRunAlerts(this.config, pipeline, run, tasks, attempts));
  }

  /** On every scheduler pass (or less often): the pipeline's queued and running runs past their SLA at `now`. */
  checkSla(
    pipeline: PipelineFacts,
    runs: readonly RunFacts[],
    now: Date = this.clock(),
  ): Promise<AlertOutcome[]> {
    return this.guard(`SLA of ${pipeline.name}`, () => slaAlerts(this.config, pipeline, runs, now));
  }

  /**
   * After the lake's layer volumes were measured (e.g. by the data_quality_checks pipeline's layer_health task):
   * layers above their size threshold. `occurrence` (the measuring run's id) makes a second report of the same
   * measurement a repeat.
   */
  layerVolumes(
    volumes: readonly LayerVolumeFacts[],
    context: { pipeline?: string; occurrence?: string } = {},
  ): Promise<AlertOutcome[]> {
    return this.guard('layer volumes', () => layerSizeAlerts(this.config, volumes, context));
  }

  /** Sends a test message to every channel (or the named ones), bypassing rules and grouping. */
  async sendTest(names: readonly string[] = [...this.channels.keys()]): Promise<AlertOutcome> {
    const at = this.clock().toISOString();
    const alert: Alert = {
      cause: 'test',
      kind: 'run_failed',
      pipeline: null,
      severity: 'warning',
      title: 'medallion test alert',
      text: 'This is a test of the alert channels: if you read it, the channel works.',
      facts: {},
      runId: null,
      occurrence: null,
      channels: [...names],
    };
    const message = { ...alert, at, occurrences: 1, grouped: 1, firstAt: at, previousSentAt: null };
    return { cause: 'test', sent: true, occurrences: 1, ...(await this.deliver(message)) };
  }

  /** Waits for the alerts being recorded and sent (for callers that do not await them, e.g. on shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Drains, then releases the channels' connections. */
  async close(): Promise<void> {
    await this.drain();
    await Promise.all([...this.channels.values()].map((channel) => channel.close?.()));
  }

  private guard(what: string, evaluate: () => Alert[]): Promise<AlertOutcome[]> {
    const work = this.evaluateAndSend(what, evaluate);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return work;
  }

  private async evaluateAndSend(what: string, evaluate: () => Alert[]): Promise<AlertOutcome[]> {
    let alerts: Alert[];
    try {
      alerts = evaluate();
    } catch (error) {
      this.log(`medallion alerts: cannot evaluate the rules for ${what}: ${describeError(error)}`);
      return [];
    }
    const outcomes: AlertOutcome[] = [];
    for (const alert of alerts) {
      try {
        const outcome = await this.dispatch(alert);
        if (outcome) outcomes.push(outcome);
      } catch (error) {
        this.log(`medallion alerts: cannot record ${alert.cause}: ${describeError(error)}`);
      }
    }
    return outcomes;
  }

  private async dispatch(reported: Alert): Promise<AlertOutcome | undefined> {
    const alert = this.redactAlert(reported);
    const key = alert.occurrence === null ? undefined : JSON.stringify([alert.cause, alert.occurrence]);
    if (key !== undefined && this.recorded.has(key)) return undefined;
    const at = this.clock().toISOString();
    const decision = await this.store.recordAlert({
      cause: alert.cause,
      occurrence: alert.occurrence,
      at,
      groupWindowMs: this.windowMs,
      kind: alert.kind,
      pipeline: alert.pipeline,
      severity: alert.severity,
      title: alert.title,
      text: alert.text,
      runId: alert.runId,
    });
    if (key !== undefined) {
      if (this.recorded.size >= REMEMBERED) this.recorded.clear();
      this.recorded.add(key);
    }
    const outcome: AlertOutcome = {
      cause: alert.cause,
      sent: decision.send,
      occurrences: decision.occurrences,
      delivered: [],
      failed: [],
    };
    if (!decision.send) return outcome;
    const { delivered, failed } = await this.deliver({
      ...alert,
      at,
      occurrences: decision.occurrences,
      grouped: decision.grouped,
      firstAt: decision.firstAt,
      previousSentAt: decision.previousSentAt,
    });
    for (const failure of failed) this.log(`medallion alerts: ${alert.cause}: ${failure.error}`);
    const error = failed.length ? failed.map((failure) => failure.error).join('; ') : null;
    try {
      await this.store.recordAlertDelivery(alert.cause, at, error);
    } catch (recordError) {
      this.log(
        `medallion alerts: cannot record the delivery of ${alert.cause}: ${describeError(recordError)}`,
      );
    }
    return { ...outcome, delivered, failed };
  }

  /** Sends on each of the message's channels at once; a failure on one does not keep the others from it. */
  private async deliver(
    message: AlertMessage,
  ): Promise<{ delivered: string[]; failed: { channel: string; error: string }[] }> {
    const delivered: string[] = [];
    const failed: { channel: string; error: string }[] = [];
    await Promise.all(
      message.channels.map(async (name) => {
        const channel = this.channels.get(name);
        try {
          if (!channel) throw new Error(`no channel named ${name}`);
          await channel.send(message);
          delivered.push(name);
        } catch (error) {
          failed.push({ channel: name, error: this.redact(describeError(error)) });
        }
      }),
    );
    return { delivered: delivered.sort(), failed };
  }

  /** A task's error (in an alert's text) may quote a webhook URL as well as a delivery error does. */
  private redactAlert(alert: Alert): Alert {
    const facts = Object.entries(alert.facts).map(([key, value]) => [
      key,
      typeof value === 'string' ? this.redact(value) : value,
    ]);
    return {
      ...alert,
      title: this.redact(alert.title),
      text: this.redact(alert.text),
      facts: Object.fromEntries(facts) as Alert['facts'],
    };
  }

  private redact(text: string): string {
    let result = text;
    for (const channel of this.channels.values()) result = channel.redact?.(result) ?? result;
    return result;
  }
}

/** The alerter for a configuration file (`--alerts FILE`: .json or .mjs) over the metadata store. */
/** An alerter from a configuration file, or from a configuration given inline (in `file`, for messages). */
export async function openAlerter(
  source: string | { file: string } | { inline: unknown; file: string },
  store: AlerterOptions['store'],
  options: Omit<AlerterOptions, 'config' | 'store'> = {},
): Promise<Alerter> {
  const config =
    typeof source === 'string'
      ? await loadAlertConfig(source)
      : 'inline' in source
        ? parseAlertConfig(source.inline, source.file)
        : await loadAlertConfig(source.file);
  return new Alerter({ config, store, ...options });
}
