/**
 * The MetadataStore over Kysely, one implementation for SQLite and PostgreSQL. Each concern's queries live in a
 * module of their own under kysely/ (runs, tasks, attempts, logs, leases, processes, alerts, connections); this
 * class binds them to one database. Compare-and-set updates (`… WHERE state IN (…)`) make every transition safe
 * between processes; nothing holds a lock across calls but claimTasks' row locks.
 */
import type { Kysely } from 'kysely';
import type { RunState, TaskState } from '../core/run-state.js';
import * as accounts from './kysely/accounts.js';
import * as alerts from './kysely/alerts.js';
import * as attempts from './kysely/attempts.js';
import * as connections from './kysely/connections.js';
import * as leases from './kysely/leases.js';
import * as logs from './kysely/logs.js';
import * as pipelines from './kysely/pipelines.js';
import * as processes from './kysely/processes.js';
import * as runs from './kysely/runs.js';
import * as snapshot from './kysely/snapshot.js';
import { LOCK_MIGRATE, StoreCore, type Dialect } from './kysely/store-core.js';
import * as tasks from './kysely/tasks.js';
import { sql } from 'kysely';
import type { MetadataStore } from './metadata-store.js';
import { wakeChannel, type Subscription, type WakeListener, type WakeTopic } from './wakeups.js';
import { applyMigrations, MIGRATIONS, type Migration } from './migrations.js';
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
  TaskInstanceRecord,
  TaskTransitionFields,
} from './records.js';
import type { Database } from './schema.js';

export type { Dialect } from './kysely/store-core.js';

export interface KyselyMetadataStoreOptions {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The clock for the timestamps the store sets itself (createdAt, updatedAt). Default: the system clock. */
  clock?: () => Date;
  /** PostgreSQL: the schema the tables live in (created by migrate() when missing; on the search_path). */
  schema?: string;
  /** Override the migrations (tests). */
  migrations?: readonly Migration[];
  /** PostgreSQL: opens a connection that hears other processes' wake-ups. */
  listen?: (onWake: WakeListener) => Subscription;
}

export class KyselyMetadataStore implements MetadataStore {
  readonly dialect: Dialect;
  private readonly core: StoreCore;
  private readonly schema: string | undefined;
  private readonly migrations: readonly Migration[];
  private readonly listen: ((onWake: WakeListener) => Subscription) | undefined;
  /** This process's subscribers; on SQLite the only ones a wake-up reaches. */
  private readonly listeners = new Set<WakeListener>();
  private readonly subscriptions = new Set<Subscription>();

  constructor(options: KyselyMetadataStoreOptions) {
    this.dialect = options.dialect;
    this.core = new StoreCore(options.db, options.dialect, options.clock ?? (() => new Date()));
    this.schema = options.schema;
    this.migrations = options.migrations ?? MIGRATIONS;
    this.listen = options.listen;
  }

  subscribe(onWake: WakeListener): Subscription {
    this.listeners.add(onWake);
    const remote = this.listen?.(onWake);
    const subscription: Subscription = {
      close: async () => {
        this.listeners.delete(onWake);
        this.subscriptions.delete(subscription);
        await remote?.close();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Tells waiting processes (on PostgreSQL, this one included, through LISTEN) that there is work. */
  private async wake(topic: WakeTopic, when = true): Promise<void> {
    if (!when) return;
    if (this.dialect === 'sqlite') {
      for (const listener of this.listeners) listener(topic);
      return;
    }
    try {
      await sql`select pg_notify(${wakeChannel(this.schema)}, ${topic})`.execute(this.core.db);
    } catch {
      // A hint only: the waiting processes poll as well.
    }
  }

  /** The Kysely instance, for tests and tools that need a query the port does not offer. */
  get kysely(): Kysely<Database> {
    return this.core.db;
  }

  async migrate(): Promise<void> {
    await this.core.write(async (trx) => {
      if (this.dialect === 'postgres') {
        // Held until commit: a second process starting at the same moment waits, then finds nothing to do.
        await sql`select pg_advisory_xact_lock(${LOCK_MIGRATE}, 0)`.execute(trx);
        if (this.schema) await trx.schema.createSchema(this.schema).ifNotExists().execute();
      }
      await applyMigrations(trx, this.core.now(), this.migrations);
    });
  }

  async appliedMigrations(): Promise<number[]> {
    const rows = await this.core.db
      .selectFrom('medallion_migrations')
      .select('version')
      .orderBy('version')
      .execute();
    return rows.map((row) => row.version);
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.core.db.destroy();
  }

  upsertPipeline(name: string, definitionHash: string): Promise<void> {
    return pipelines.upsertPipeline(this.core, name, definitionHash);
  }
  getPipeline(name: string): Promise<PipelineRecord | undefined> {
    return pipelines.getPipeline(this.core, name);
  }
  listPipelines(): Promise<PipelineRecord[]> {
    return pipelines.listPipelines(this.core);
  }
  async setPaused(name: string, paused: boolean): Promise<boolean> {
    const changed = await pipelines.setPaused(this.core, name, paused);
    await this.wake('runs', changed && !paused);
    return changed;
  }
  isPaused(name: string): Promise<boolean> {
    return pipelines.isPaused(this.core, name);
  }

  async createRun(run: NewRun): Promise<{ run: RunRecord; created: boolean }> {
    const result = await runs.createRun(this.core, run);
    await this.wake('runs', result.created);
    return result;
  }
  getRun(id: string): Promise<RunRecord | undefined> {
    return runs.getRun(this.core, id);
  }
  listRuns(filter?: RunFilter): Promise<RunRecord[]> {
    return runs.listRuns(this.core, filter);
  }
  latestLogicalDate(pipeline: string, triggers?: RunTrigger[]): Promise<string | undefined> {
    return runs.latestLogicalDate(this.core, pipeline, triggers);
  }
  transitionRun(id: string, from: RunState[], to: RunState, fields?: RunTransitionFields): Promise<boolean> {
    return runs.transitionRun(this.core, id, from, to, fields);
  }
  startRun(id: string, now: string, lease?: LeaseRequest): Promise<StartRunResult> {
    return runs.startRun(this.core, id, now, lease);
  }
  async requestStop(
    id: string,
    stop: Omit<RunStop, 'requestedAt'>,
    now: string,
  ): Promise<RunRecord | undefined> {
    const run = await runs.requestStop(this.core, id, stop, now);
    await this.wake('runs', run !== undefined);
    return run;
  }
  endRun(id: string, end: RunEnd): Promise<boolean> {
    return runs.endRun(this.core, id, end);
  }

  listTaskInstances(runId: string): Promise<TaskInstanceRecord[]> {
    return tasks.listTaskInstances(this.core, runId);
  }
  listTaskInstancesOfRuns(runIds: readonly string[]): Promise<TaskInstanceRecord[]> {
    return tasks.listTaskInstancesOfRuns(this.core, runIds);
  }
  getTaskInstance(runId: string, taskId: string): Promise<TaskInstanceRecord | undefined> {
    return tasks.getTaskInstance(this.core, runId, taskId);
  }
  async transitionTask(
    runId: string,
    taskId: string,
    from: TaskState[],
    to: TaskState,
    fields?: TaskTransitionFields,
  ): Promise<boolean> {
    const changed = await tasks.transitionTask(this.core, runId, taskId, from, to, fields);
    await this.wake('tasks', changed && to === 'queued');
    return changed;
  }
  async transitionTasks(
    runId: string,
    taskIds: readonly string[],
    from: TaskState[],
    to: TaskState,
    fields?: TaskTransitionFields,
  ): Promise<string[]> {
    const changed = await tasks.transitionTasks(this.core, runId, taskIds, from, to, fields);
    await this.wake('tasks', changed.length > 0 && to === 'queued');
    return changed;
  }
  async rescheduleTasks(
    runId: string,
    list: readonly { taskId: string; from: TaskState; maxTries: number }[],
    options?: { definitionHash?: string },
  ): Promise<string[]> {
    const rescheduled = await tasks.rescheduleTasks(this.core, runId, list, options);
    await this.wake('runs', rescheduled.length > 0);
    return rescheduled;
  }
  lastSuccessFingerprint(pipeline: string, taskId: string, lake?: string): Promise<string | undefined> {
    return tasks.lastSuccessFingerprint(this.core, pipeline, taskId, lake);
  }

  claimTasks(worker: string, limit: number, now: string, scope?: ClaimScope): Promise<AttemptRecord[]> {
    return attempts.claimTasks(this.core, worker, limit, now, scope);
  }
  heartbeat(runId: string, taskId: string, attempt: number, now: string): Promise<HeartbeatAnswer> {
    return attempts.heartbeat(this.core, runId, taskId, attempt, now);
  }
  async finishAttempt(
    runId: string,
    taskId: string,
    attempt: number,
    result: AttemptResult,
  ): Promise<boolean> {
    const finished = await attempts.finishAttempt(this.core, runId, taskId, attempt, result);
    await this.wake('runs', finished);
    await this.wake('tasks', finished && result.task?.state === 'queued');
    return finished;
  }
  runningAttempts(): Promise<AttemptRecord[]> {
    return attempts.runningAttempts(this.core);
  }
  staleAttempts(heartbeatBefore: string, ofWorkers?: readonly string[]): Promise<AttemptRecord[]> {
    return attempts.staleAttempts(this.core, heartbeatBefore, ofWorkers);
  }
  listAttempts(runId: string, taskId?: string): Promise<AttemptRecord[]> {
    return attempts.listAttempts(this.core, runId, taskId);
  }

  appendLog(
    runId: string,
    taskId: string,
    attempt: number,
    lines: string[],
    firstLine?: number,
  ): Promise<void> {
    return logs.appendLog(this.core, runId, taskId, attempt, lines, firstLine);
  }
  readLog(
    runId: string,
    taskId: string,
    attempt: number,
    afterLine?: number,
    limit?: number,
  ): Promise<LogPage> {
    return logs.readLog(this.core, runId, taskId, attempt, afterLine, limit);
  }

  renewLease(key: string, runId: string, holder: string, now: string, ttlMs: number): Promise<boolean> {
    return leases.renewLease(this.core, key, runId, holder, now, ttlMs);
  }
  releaseLeases(runId: string): Promise<void> {
    return leases.releaseLeases(this.core.db, runId);
  }
  getLease(key: string): Promise<LeaseRecord | undefined> {
    return leases.getLease(this.core, key);
  }

  recordProcess(process: NewProcess, now: string): Promise<void> {
    return processes.recordProcess(this.core, process, now);
  }
  stopProcess(id: string, now: string): Promise<void> {
    return processes.stopProcess(this.core, id, now);
  }
  getProcess(id: string): Promise<ProcessRecord | undefined> {
    return processes.getProcess(this.core, id);
  }
  listProcesses(options?: { includeStopped?: boolean }): Promise<ProcessRecord[]> {
    return processes.listProcesses(this.core, options);
  }

  recordAlert(report: AlertOccurrence): Promise<AlertDecision> {
    return alerts.recordAlert(this.core, report);
  }
  recordAlertDelivery(cause: string, at: string, error: string | null): Promise<void> {
    return alerts.recordAlertDelivery(this.core, cause, at, error);
  }
  listAlerts(filter?: AlertFilter): Promise<AlertRecord[]> {
    return alerts.listAlerts(this.core, filter);
  }

  putConnection(connection: NewConnection): Promise<void> {
    return connections.putConnection(this.core, connection);
  }
  getConnection(name: string): Promise<ConnectionRecord | undefined> {
    return connections.getConnection(this.core, name);
  }
  listConnections(): Promise<ConnectionRecord[]> {
    return connections.listConnections(this.core);
  }
  deleteConnection(name: string): Promise<boolean> {
    return connections.deleteConnection(this.core, name);
  }

  createUser(user: NewUser): Promise<boolean> {
    return accounts.createUser(this.core, user);
  }
  getUser(key: { id: string } | { name: string }): Promise<UserRecord | undefined> {
    return accounts.getUser(this.core, key);
  }
  listUsers(): Promise<UserRecord[]> {
    return accounts.listUsers(this.core);
  }
  updateUser(
    name: string,
    changes: Partial<Pick<UserRecord, 'role' | 'passwordHash' | 'disabled'>>,
  ): Promise<boolean> {
    return accounts.updateUser(this.core, name, changes);
  }
  deleteUser(name: string): Promise<boolean> {
    return accounts.deleteUser(this.core, name);
  }
  createSession(session: NewSession): Promise<void> {
    return accounts.createSession(this.core, session);
  }
  getSession(idHash: string): Promise<SessionRecord | undefined> {
    return accounts.getSession(this.core, idHash);
  }
  touchSession(idHash: string, lastSeenAt: string): Promise<void> {
    return accounts.touchSession(this.core, idHash, lastSeenAt);
  }
  deleteSession(idHash: string): Promise<void> {
    return accounts.deleteSession(this.core, idHash);
  }
  deleteSessionsOf(userId: string): Promise<void> {
    return accounts.deleteSessionsOf(this.core, userId);
  }
  deleteExpiredSessions(now: string): Promise<number> {
    return accounts.deleteExpiredSessions(this.core, now);
  }
  createApiToken(token: NewApiToken): Promise<void> {
    return accounts.createApiToken(this.core, token);
  }
  getApiToken(id: string): Promise<ApiTokenRecord | undefined> {
    return accounts.getApiToken(this.core, id);
  }
  listApiTokens(userId?: string): Promise<ApiTokenRecord[]> {
    return accounts.listApiTokens(this.core, userId);
  }
  revokeApiToken(id: string, at: string): Promise<boolean> {
    return accounts.revokeApiToken(this.core, id, at);
  }
  touchApiToken(id: string, at: string): Promise<void> {
    return accounts.touchApiToken(this.core, id, at);
  }
  recordLoginFailure(keys: readonly string[], at: string): Promise<void> {
    return accounts.recordLoginFailure(this.core, keys, at);
  }
  countLoginFailures(key: string, since: string): Promise<number> {
    return accounts.countLoginFailures(this.core, key, since);
  }
  clearLoginFailures(key: string): Promise<void> {
    return accounts.clearLoginFailures(this.core, key);
  }

  readSnapshot(take: (table: SnapshotTable) => Promise<void>): Promise<{ migration: number }> {
    return snapshot.readSnapshot(this.core, take);
  }
  loadSnapshot(
    migration: number,
    tables: AsyncIterable<SnapshotTable>,
    options?: { replace?: boolean },
  ): Promise<void> {
    return snapshot.loadSnapshot(this.core, migration, tables, options);
  }
}
