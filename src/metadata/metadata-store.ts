/**
 * The metadata store port: pipelines, runs, task instances, attempts and their logs. The scheduler, the
 * executors and the CLI talk to this interface only; `kysely-store.ts` implements it once for SQLite and
 * PostgreSQL.
 *
 * Every timestamp is an ISO-8601 string in UTC (`Date.prototype.toISOString()` form); the store normalises
 * what it is given, so string order is time order.
 */
import type { RunState, TaskState } from '../core/run-state.js';

export type { RunState, TaskState } from '../core/run-state.js';

export type RunTrigger = 'schedule' | 'manual' | 'backfill';

export type AttemptState = 'running' | 'success' | 'failed';

export interface PipelineRecord {
  name: string;
  definitionHash: string;
  paused: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface RunRecord {
  id: string;
  pipeline: string;
  /** ISO timestamp: the logical date the run is for (the start of its data interval for scheduled runs). */
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  trigger: RunTrigger;
  params: Record<string, unknown>;
  state: RunState;
  /** Run every task even when its inputs are unchanged since its last success. */
  force: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  summary: unknown;
}

export interface TaskInstanceRecord {
  runId: string;
  taskId: string;
  state: TaskState;
  /** Tries started so far (0 before the first claim); the current attempt's number once running. */
  tryNumber: number;
  maxTries: number;
  /** For up_for_retry: when the next try may start. */
  nextTryAt: string | null;
  /** What the task's inputs looked like for its latest try (for skipping unchanged work). */
  fingerprint: string | null;
  updatedAt: string;
}

export interface AttemptMetrics {
  durationMs: number;
  rowsIn?: number;
  rowsOut?: number;
  /** Rows (records, for refined tables) the try sent to quarantine. */
  rowsQuarantined?: number;
  bytesRead?: number;
  bytesWritten?: number;
  cpuMs?: number;
  peakRssBytes?: number;
}

export interface AttemptRecord {
  runId: string;
  taskId: string;
  /** 1-based; equals the task instance's tryNumber when the attempt was claimed. */
  attempt: number;
  state: AttemptState;
  worker: string;
  startedAt: string;
  heartbeatAt: string;
  finishedAt: string | null;
  reason: string | null;
  metrics: AttemptMetrics | null;
  /** What the task reported when it finished (JSON), for the run's summary. */
  output: unknown;
}

export type NewRun = Pick<
  RunRecord,
  'id' | 'pipeline' | 'logicalDate' | 'dataIntervalStart' | 'dataIntervalEnd' | 'trigger' | 'params'
> & {
  force?: boolean;
  /** The run's task instances, created in state 'scheduled' in the same transaction as the run. */
  tasks: { taskId: string; maxTries: number }[];
};

export interface RunFilter {
  pipeline?: string;
  states?: RunState[];
  limit?: number;
}

export interface RunTransitionFields {
  startedAt?: string;
  finishedAt?: string;
  summary?: unknown;
}

export interface TaskTransitionFields {
  nextTryAt?: string | null;
  fingerprint?: string | null;
  /** Raise (or lower) the number of tries allowed, e.g. when clearing a failed task. */
  maxTries?: number;
}

export interface AttemptResult {
  state: 'success' | 'failed';
  reason?: string;
  metrics?: AttemptMetrics;
  output?: unknown;
  finishedAt: string;
  /**
   * The task instance's next state, from running, written in the same transaction as the attempt's end: were
   * they two writes, a process dying between them would leave a running task without a running attempt, which
   * no scheduler recovers (its run would never end).
   */
  task?: TaskTransitionFields & { state: TaskState };
}

/** Which task instances a claimer takes: those of these pipelines' runs, or of these runs only. */
export interface ClaimScope {
  pipelines?: readonly string[];
  runIds?: readonly string[];
}

export interface LogPage {
  lines: string[];
  /** Lines are numbered from 1; pass this back as `afterLine` to read what was appended since. */
  nextLine: number;
}

/** One report of an alert cause, for recordAlert. */
export interface AlertOccurrence {
  /** Stable key: repeats of one cause are grouped (see src/core/alert-rules.ts). */
  cause: string;
  /**
   * What makes a report of this cause the same fact again (e.g. the run it is about): a cause is counted once
   * per occurrence key, however many processes report it. Absent: every report is a new occurrence.
   */
  occurrence?: string | null;
  at: string;
  /** Occurrences within this long of the cause's last send are counted, not sent. */
  groupWindowMs: number;
  kind: string;
  pipeline?: string | null;
  severity: string;
  title: string;
  text: string;
  runId?: string | null;
}

export interface AlertDecision {
  /** Send this report now: the cause's first, or its first once the group window since the last send is over. */
  send: boolean;
  /** This occurrence key was recorded already: nothing was counted (and send is false). */
  repeat: boolean;
  /** Occurrences of the cause so far, this one included. */
  occurrences: number;
  /** Occurrences since the cause was last sent, this one included (when send: what this alert stands for). */
  grouped: number;
  firstAt: string;
  /** When the cause was sent before this report (null: never). */
  previousSentAt: string | null;
}

export interface AlertRecord {
  cause: string;
  kind: string;
  pipeline: string | null;
  severity: string;
  /** The latest report's. */
  title: string;
  text: string;
  firstAt: string;
  lastAt: string;
  occurrences: number;
  /** `occurrences` when the cause was last sent. */
  sentOccurrences: number;
  lastSentAt: string | null;
  lastRunId: string | null;
  /** Why the last send failed on some channel (null when it went out). */
  lastError: string | null;
  lastErrorAt: string | null;
}

export interface AlertFilter {
  pipeline?: string;
  limit?: number;
}

/** A named connection (e.g. to an S3 service); the store keeps the secret as given (encrypted by the caller). */
export interface ConnectionRecord {
  name: string;
  kind: string;
  /** What the connection needs besides its secret (JSON-serialisable, no secrets). */
  config: Record<string, unknown>;
  /** The sealed secret, or null when the connection has none. */
  secret: string | null;
  createdAt: string;
  updatedAt: string;
}

export type NewConnection = Pick<ConnectionRecord, 'name' | 'kind' | 'config' | 'secret'>;

export interface MetadataStore {
  /** Which database is behind the store. */
  readonly dialect: 'sqlite' | 'postgres';

  /**
   * Applies the versioned migrations not yet recorded, in order, in one transaction. Idempotent, and safe when
   * several processes start at once (an advisory lock on PostgreSQL, an immediate write transaction on SQLite).
   */
  migrate(): Promise<void>;
  /** The versions recorded as applied, ascending. */
  appliedMigrations(): Promise<number[]>;
  close(): Promise<void>;

  /** Records the pipeline (new ones start unpaused) and its definition hash. */
  upsertPipeline(name: string, definitionHash: string): Promise<void>;
  getPipeline(name: string): Promise<PipelineRecord | undefined>;
  listPipelines(): Promise<PipelineRecord[]>;
  /** False when the pipeline is unknown. */
  setPaused(name: string, paused: boolean): Promise<boolean>;
  /** False for unknown pipelines. */
  isPaused(name: string): Promise<boolean>;

  /**
   * Creates the run and its task instances (state 'scheduled') in one transaction. Exactly once: for a
   * 'schedule' or 'backfill' trigger, a run already recorded for the same (pipeline, logicalDate) by either
   * trigger — even by another process, concurrently — is returned instead, with `created: false` (a unique
   * index decides). Manual runs always create.
   */
  createRun(run: NewRun): Promise<{ run: RunRecord; created: boolean }>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Newest logical date first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** The latest logical date among the pipeline's runs with one of these triggers (any trigger when omitted). */
  latestLogicalDate(pipeline: string, triggers?: RunTrigger[]): Promise<string | undefined>;
  /** Compare-and-set: changes the state only when it is currently one of `from`; returns whether it changed. */
  transitionRun(id: string, from: RunState[], to: RunState, fields?: RunTransitionFields): Promise<boolean>;

  /** In task id order. */
  listTaskInstances(runId: string): Promise<TaskInstanceRecord[]>;
  getTaskInstance(runId: string, taskId: string): Promise<TaskInstanceRecord | undefined>;
  /** Compare-and-set, like transitionRun; fields not given are left as they are. */
  transitionTask(
    runId: string,
    taskId: string,
    from: TaskState[],
    to: TaskState,
    fields?: TaskTransitionFields,
  ): Promise<boolean>;
  /**
   * transitionTask for many task instances of one run in one statement (per thousand ids): each one whose state
   * is one of `from` changes, on its own — nothing is promised across tasks. Returns the ids that changed, in
   * task id order; unknown ids are left out.
   */
  transitionTasks(
    runId: string,
    taskIds: readonly string[],
    from: TaskState[],
    to: TaskState,
    fields?: TaskTransitionFields,
  ): Promise<string[]>;
  /**
   * Sets the given task instances back to 'scheduled' (each only from the state given, with its new maxTries) and,
   * when any changed, a finished run back to 'queued' — in one transaction, so that a process dying halfway cannot
   * leave cleared tasks under a finished run. Returns the ids that changed, in task id order.
   */
  rescheduleTasks(
    runId: string,
    tasks: readonly { taskId: string; from: TaskState; maxTries: number }[],
  ): Promise<string[]>;

  /**
   * Claims up to `limit` queued task instances, longest queued first: sets them running, increments their
   * tryNumber and creates the attempt rows, in one transaction. Two concurrent claimers never get the same
   * task (FOR UPDATE SKIP LOCKED on PostgreSQL; an immediate write transaction on SQLite).
   */
  claimTasks(worker: string, limit: number, now: string, scope?: ClaimScope): Promise<AttemptRecord[]>;
  /** Records that the attempt is alive; false when it is no longer running (finished, or failed as stale). */
  heartbeat(runId: string, taskId: string, attempt: number, now: string): Promise<boolean>;
  /**
   * Ends a running attempt (and, with `result.task`, moves its running task instance on, atomically); false when
   * the attempt was not running (already finished, or failed as stale), and then nothing changes.
   */
  finishAttempt(runId: string, taskId: string, attempt: number, result: AttemptResult): Promise<boolean>;
  /** Running attempts whose last heartbeat is older than `heartbeatBefore`. */
  staleAttempts(heartbeatBefore: string): Promise<AttemptRecord[]>;
  /** In task id, then attempt order. */
  listAttempts(runId: string, taskId?: string): Promise<AttemptRecord[]>;

  /** Appends lines to the attempt's log (numbered on from the last line stored). */
  appendLog(runId: string, taskId: string, attempt: number, lines: string[]): Promise<void>;
  /** The lines after line `afterLine` (default 0: from the start), at most `limit`. */
  readLog(
    runId: string,
    taskId: string,
    attempt: number,
    afterLine?: number,
    limit?: number,
  ): Promise<LogPage>;

  /** The fingerprint of the task's most recent successful try in any run of the pipeline. */
  lastSuccessFingerprint(pipeline: string, taskId: string): Promise<string | undefined>;

  /**
   * Counts one report of an alert cause and says whether to send it — the cause's first report, or the first
   * after `groupWindowMs` since its last send; atomically (one transaction, the cause's row locked), so that of
   * processes reporting the same cause at once exactly one is told to send. A report whose occurrence key was
   * recorded before for the cause is a repeat: not counted, not sent.
   */
  recordAlert(report: AlertOccurrence): Promise<AlertDecision>;
  /** Records how the send of a cause went: `error` null when it went out on every channel. */
  recordAlertDelivery(cause: string, at: string, error: string | null): Promise<void>;
  /** Causes most recently reported first. */
  listAlerts(filter?: AlertFilter): Promise<AlertRecord[]>;

  /** Adds the connection, or replaces the one of that name (keeping its createdAt). */
  putConnection(connection: NewConnection): Promise<void>;
  getConnection(name: string): Promise<ConnectionRecord | undefined>;
  /** By name. */
  listConnections(): Promise<ConnectionRecord[]>;
  /** False when there was no connection of that name. */
  deleteConnection(name: string): Promise<boolean>;
}
