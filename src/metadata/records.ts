/** The records the metadata store keeps and returns (see metadata-store.ts for the port itself). */
import type { EngineKind } from '../core/pipeline.js';
import type { RetentionSettings } from '../core/retention.js';
import type { Role } from '../core/roles.js';
import type { RunState, StopState, TaskState } from '../core/run-state.js';

export type { RunState, StopState, TaskState } from '../core/run-state.js';

export type RunTrigger = 'schedule' | 'manual' | 'backfill';

export type AttemptState = 'running' | 'success' | 'failed';

export interface PipelineRecord {
  name: string;
  definitionHash: string;
  paused: boolean;
  createdAt: string;
  updatedAt: string;
}

/**
 * Where a run reads and writes, fixed when it is created: every process that executes one of its tasks uses
 * these, never its own flags. Locations are as the user gave them, made absolute (a directory) or kept as an
 * `s3://` URL with its connection name; never a secret.
 */
export interface RunLocations {
  /** null for a pipeline without sources. */
  source: string | null;
  lake: string;
  /** The engine its refined tables run on; absent: DuckDB, in the process that runs each task. */
  engine?: RunEngine;
  /** The retention its retention task applies (as the project file declared it); absent: the defaults. */
  retention?: RetentionSettings;
}

/** Where a run's refined tables are computed: every process executing its tasks uses this, not its own flags. */
export interface RunEngine {
  /** The default engine of its silver and gold tables (a table's own `engine` wins). */
  kind: EngineKind;
  /** The Spark Connect endpoint, for the tables on Spark. */
  spark?: { remote: string; uiUrl?: string };
}

/** Why and how a run is being stopped (cancelled, or its process interrupted). */
export interface RunStop {
  state: StopState;
  reason: string;
  requestedAt: string;
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
  /** Rebuild incremental tables from all their input instead of merging what arrived. */
  fullRefresh: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  summary: unknown;
  /** Where it runs; null for runs recorded before runs carried their locations. */
  locations: RunLocations | null;
  /** The fingerprint of the pipeline definition it was planned from (null: not recorded). */
  definitionHash: string | null;
  /** The process that drives the run alone (`medallion run`); null: any scheduler may. */
  owner: string | null;
  /** Set once someone asked the run to stop. */
  stop: RunStop | null;
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
  /** The queue whose workers may claim it. */
  queue: string;
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
  /** When its task was queued for this try (started − queued: the wait for a worker); null before migration 7. */
  queuedAt: string | null;
}

export type NewRun = Pick<
  RunRecord,
  'id' | 'pipeline' | 'logicalDate' | 'dataIntervalStart' | 'dataIntervalEnd' | 'trigger' | 'params'
> & {
  force?: boolean;
  fullRefresh?: boolean;
  locations?: RunLocations;
  definitionHash?: string;
  owner?: string;
  /** The run's task instances, created in state 'scheduled' in the same transaction as the run. */
  tasks: { taskId: string; maxTries: number; queue?: string }[];
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
  /** Only tasks of these queues (default: every queue). */
  queues?: readonly string[];
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

/**
 * The lock that keeps two runs of one pipeline from writing one lake at once: held by a run, renewed while it
 * runs, free once it expires or its run has finished.
 */
export interface LeaseRecord {
  key: string;
  runId: string;
  /** The process that took or last renewed it. */
  holder: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface LeaseRequest {
  key: string;
  holder: string;
  ttlMs: number;
}

/** Why a queued run did not start. */
export type StartRunResult = { started: true } | { started: false; heldBy?: LeaseRecord };

export type ProcessKind = 'scheduler' | 'serve' | 'run' | 'worker';

/** A medallion process that schedules or executes work, as it last reported itself. */
export interface ProcessRecord {
  /** host:pid:random, as its attempts name it. */
  id: string;
  kind: ProcessKind;
  host: string;
  pid: number;
  startedAt: string;
  heartbeatAt: string;
  /** Set when it stopped cleanly. */
  stoppedAt: string | null;
  /** The pipelines it can execute, with their definitions' fingerprints. */
  pipelines: { name: string; definitionHash: string }[];
  /** The queues it claims tasks from; null when it executes nothing (a scheduler with --no-execute, serve). */
  queues: string[] | null;
  /** Tries it runs at once; null when it executes nothing. */
  slots: number | null;
}

export type NewProcess = Omit<ProcessRecord, 'heartbeatAt' | 'stoppedAt' | 'queues' | 'slots'> &
  Partial<Pick<ProcessRecord, 'queues' | 'slots'>>;

/** What a running try learns from its heartbeat. */
export type HeartbeatAnswer =
  /** Recorded; go on. */
  | 'running'
  /** The try is no longer running (failed elsewhere as stale): stop, nothing of it will be recorded. */
  | 'ended'
  /** Its run is being stopped: stop now and record the try's end. */
  | 'stopping';

/** How a run is ended from outside its scheduler (its process is dead, or gone for good). */
export interface RunEnd {
  state: StopState;
  reason: string;
  finishedAt: string;
}

/** A person who signs in; `passwordHash` is an argon2id hash (the password is never stored). */
export interface UserRecord {
  id: string;
  name: string;
  role: Role;
  passwordHash: string;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export type NewUser = Pick<UserRecord, 'id' | 'name' | 'role' | 'passwordHash'>;

/** A signed-in browser: known by the hash of its cookie's value, with its CSRF token. */
export interface SessionRecord {
  idHash: string;
  user: UserRecord;
  csrfToken: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  address: string | null;
  userAgent: string | null;
}

export type NewSession = Omit<SessionRecord, 'user' | 'lastSeenAt'> & { userId: string };

/** A personal API token: its secret only as a hash, shown once when made. */
export interface ApiTokenRecord {
  id: string;
  userId: string;
  userName: string;
  name: string;
  secretHash: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export type NewApiToken = Pick<
  ApiTokenRecord,
  'id' | 'userId' | 'name' | 'secretHash' | 'createdAt' | 'expiresAt'
>;

/**
 * A row as a snapshot of the metadata store holds it: its columns' text, numbers and nulls, which every
 * table keeps alike on SQLite and PostgreSQL (see schema.ts), so a snapshot of one loads into the other.
 */
export type SnapshotRow = Record<string, string | number | null>;

/** One table of a snapshot: its name and its rows, a page at a time. */
export interface SnapshotTable {
  table: string;
  pages: AsyncIterable<SnapshotRow[]>;
}

/** A table that holds rows, and how many. */
export interface TableRows {
  table: string;
  rows: number;
}
