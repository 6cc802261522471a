/**
 * The metadata store port: pipelines, runs, task instances, attempts and their logs. The scheduler, the
 * executors and the CLI talk to this interface only; `kysely-store.ts` implements it once for SQLite and
 * PostgreSQL.
 *
 * Every timestamp is an ISO-8601 string in UTC (`Date.prototype.toISOString()` form); the store normalises
 * what it is given, so string order is time order.
 */
import { MedallionError } from '../core/errors.js';
import type { RunState, TaskState } from '../core/run-state.js';
import type { Subscription, WakeListener } from './wakeups.js';
import type {
  ApiTokenRecord,
  NewApiToken,
  NewSession,
  NewUser,
  SessionRecord,
  UserRecord,
  AlertDecision,
  AlertFilter,
  AlertOccurrence,
  AlertRecord,
  AttemptRecord,
  AttemptResult,
  ClaimScope,
  ConnectionRecord,
  HeartbeatAnswer,
  LeaseRecord,
  LeaseRequest,
  LogPage,
  NewConnection,
  NewProcess,
  NewRun,
  PipelineRecord,
  ProcessRecord,
  RunEnd,
  RunFilter,
  RunRecord,
  RunStop,
  RunTransitionFields,
  RunTrigger,
  SnapshotTable,
  StartRunResult,
  TableRows,
  TaskInstanceRecord,
  TaskTransitionFields,
} from './records.js';

export type * from './records.js';
export type { Subscription, WakeListener, WakeTopic } from './wakeups.js';

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
  /**
   * Calls `onWake` when a process (this one or, on PostgreSQL, any) makes work of the topic's kind: a hint to pass
   * now rather than at the next poll. Subscriptions end with `close()` or with the store.
   */
  subscribe(onWake: WakeListener): Subscription;

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
  /**
   * Starts a queued run (queued → running, with its start time) and, with `lease`, takes the lease in the same
   * transaction: the run does not start while another unfinished run holds an unexpired lease of that key.
   */
  startRun(id: string, now: string, lease?: LeaseRequest): Promise<StartRunResult>;
  /**
   * Asks a run to stop: a queued run ends at once in `stop.state` (its tasks cancelled); a running one records the
   * request, which its scheduler and the heartbeats of its tries act on. Returns the run as it is now (undefined
   * when unknown); a finished run, or one already asked, is left as it is.
   */
  requestStop(id: string, stop: Omit<RunStop, 'requestedAt'>, now: string): Promise<RunRecord | undefined>;
  /**
   * Ends a queued or running run at once, for when no process will: what waits for a try is cancelled, running
   * tries fail with the reason (their tasks too), its leases are released — in one transaction. False when the run
   * had already finished.
   */
  endRun(id: string, end: RunEnd): Promise<boolean>;

  /** In task id order. */
  listTaskInstances(runId: string): Promise<TaskInstanceRecord[]>;
  getTaskInstance(runId: string, taskId: string): Promise<TaskInstanceRecord | undefined>;
  /** The task instances of many runs at once (a grid of runs × tasks), by run then task id. */
  listTaskInstancesOfRuns(runIds: readonly string[]): Promise<TaskInstanceRecord[]>;
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
    /** The definition the run is planned from from now on (when it changed since it was created). */
    options?: { definitionHash?: string },
  ): Promise<string[]>;

  /**
   * Claims up to `limit` queued task instances, longest queued first: sets them running, increments their
   * tryNumber and creates the attempt rows, in one transaction. Two concurrent claimers never get the same
   * task (FOR UPDATE SKIP LOCKED on PostgreSQL; an immediate write transaction on SQLite).
   */
  claimTasks(worker: string, limit: number, now: string, scope?: ClaimScope): Promise<AttemptRecord[]>;
  /** Records that the attempt is alive, and says whether to go on (see HeartbeatAnswer). */
  heartbeat(runId: string, taskId: string, attempt: number, now: string): Promise<HeartbeatAnswer>;
  /**
   * Ends a running attempt (and, with `result.task`, moves its running task instance on, atomically); false when
   * the attempt was not running (already finished, or failed as stale), and then nothing changes.
   */
  finishAttempt(runId: string, taskId: string, attempt: number, result: AttemptResult): Promise<boolean>;
  /** Every running attempt, oldest first (what each process is doing). */
  runningAttempts(): Promise<AttemptRecord[]>;
  /**
   * Running attempts whose last heartbeat is older than `heartbeatBefore`, or whose process is one of
   * `ofWorkers` (processes known to be gone, whatever their tries' last heartbeat).
   */
  staleAttempts(heartbeatBefore: string, ofWorkers?: readonly string[]): Promise<AttemptRecord[]>;
  /** In task id, then attempt order. */
  listAttempts(runId: string, taskId?: string): Promise<AttemptRecord[]>;

  /** Appends lines to the attempt's log (numbered on from the last line stored). */
  /**
   * With `firstLine`, the caller is the attempt's only writer and numbers its lines itself: one INSERT, and lines
   * already stored under their numbers are skipped (so a write retried after its answer was lost adds nothing).
   */
  appendLog(
    runId: string,
    taskId: string,
    attempt: number,
    lines: string[],
    firstLine?: number,
  ): Promise<void>;
  /** The lines after line `afterLine` (default 0: from the start), at most `limit`. */
  readLog(
    runId: string,
    taskId: string,
    attempt: number,
    afterLine?: number,
    limit?: number,
  ): Promise<LogPage>;

  /**
   * The fingerprint of the task's most recent successful try in the pipeline's runs on this lake (in any run of
   * the pipeline when `lake` is not given).
   */
  lastSuccessFingerprint(pipeline: string, taskId: string, lake?: string): Promise<string | undefined>;

  /** Renews the run's lease; false when another run holds it now (it had expired and was taken). */
  renewLease(key: string, runId: string, holder: string, now: string, ttlMs: number): Promise<boolean>;
  /** Gives up every lease the run holds. */
  releaseLeases(runId: string): Promise<void>;
  getLease(key: string): Promise<LeaseRecord | undefined>;

  /** Records the process, or that it is still alive (its heartbeat), replacing what it said before. */
  recordProcess(process: NewProcess, now: string): Promise<void>;
  /** Records that the process stopped cleanly. */
  stopProcess(id: string, now: string): Promise<void>;
  getProcess(id: string): Promise<ProcessRecord | undefined>;
  /** Processes most recently seen first, those that stopped cleanly left out unless asked for. */
  listProcesses(options?: { includeStopped?: boolean }): Promise<ProcessRecord[]>;

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

  /** A ConfigError-free insert: false when the name is taken. */
  createUser(user: NewUser): Promise<boolean>;
  getUser(idOrName: { id: string } | { name: string }): Promise<UserRecord | undefined>;
  /** By name. */
  listUsers(): Promise<UserRecord[]>;
  /** False when there is no user of that name. */
  updateUser(
    name: string,
    changes: Partial<Pick<UserRecord, 'role' | 'passwordHash' | 'disabled'>>,
  ): Promise<boolean>;
  /** Deletes the user with their sessions and tokens; false when there was none. */
  deleteUser(name: string): Promise<boolean>;

  createSession(session: NewSession): Promise<void>;
  /** The session with its user, however old (the caller decides whether it has expired). */
  getSession(idHash: string): Promise<SessionRecord | undefined>;
  touchSession(idHash: string, lastSeenAt: string): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Ends every session of the user (a new password, a new role, a removal). */
  deleteSessionsOf(userId: string): Promise<void>;
  deleteExpiredSessions(now: string): Promise<number>;

  createApiToken(token: NewApiToken): Promise<void>;
  getApiToken(id: string): Promise<ApiTokenRecord | undefined>;
  /** Newest first; of one user when given. */
  listApiTokens(userId?: string): Promise<ApiTokenRecord[]>;
  /** False when there is no such token or it was revoked before. */
  revokeApiToken(id: string, at: string): Promise<boolean>;
  touchApiToken(id: string, at: string): Promise<void>;

  /** Counts one failed login under each key (a user name, an address). */
  recordLoginFailure(keys: readonly string[], at: string): Promise<void>;
  /** Failed logins under the key since the instant. */
  countLoginFailures(key: string, since: string): Promise<number>;
  clearLoginFailures(key: string): Promise<void>;

  /**
   * Reads every table (but the migrations' own) in one consistent snapshot — one read transaction, REPEATABLE
   * READ on PostgreSQL — and hands each to `take` in turn, its rows a page at a time, parents before children:
   * the order loadSnapshot inserts them in. Returns the migration version the rows are at.
   */
  readSnapshot(take: (table: SnapshotTable) => Promise<void>): Promise<{ migration: number }>;
  /**
   * Inserts the tables of a snapshot read at `migration`, in one transaction, in readSnapshot's order. Refuses
   * (and changes nothing) when the database is at another migration version, when a table is unknown or out of
   * order, and — unless `replace`, which deletes every row first — when any table holds rows
   * (StoreNotEmptyError).
   */
  loadSnapshot(
    migration: number,
    tables: AsyncIterable<SnapshotTable>,
    options?: { replace?: boolean },
  ): Promise<void>;
}

/** loadSnapshot into a database that holds rows, without `replace`. */
export class StoreNotEmptyError extends MedallionError {
  constructor(readonly held: readonly TableRows[]) {
    super(
      `the metadata database is not empty: ${held.map(({ table, rows }) => `${table} holds ${rows} row(s)`).join(', ')}`,
      { hint: 'load into an empty database, or replace what it holds' },
    );
  }
}
