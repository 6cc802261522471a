/**
 * The one MetadataStore implementation, over a Kysely instance for SQLite or PostgreSQL. Where the two
 * databases differ — how a write transaction takes its locks — the difference is in `write()` and nowhere else
 * but claimTasks' row locks.
 */
import { sql, type Kysely, type Selectable, type SelectQueryBuilder, type Updateable } from 'kysely';
import { MedallionError } from '../core/errors.js';
import type { RunState, TaskState } from '../core/run-state.js';
import type {
  AlertDecision,
  AlertFilter,
  AlertOccurrence,
  AlertRecord,
  AttemptMetrics,
  AttemptRecord,
  AttemptResult,
  ClaimScope,
  ConnectionRecord,
  LogPage,
  MetadataStore,
  NewConnection,
  NewRun,
  PipelineRecord,
  RunFilter,
  RunRecord,
  RunTransitionFields,
  RunTrigger,
  TaskInstanceRecord,
  TaskTransitionFields,
} from './metadata-store.js';
import { applyMigrations, MIGRATIONS, type Migration } from './migrations.js';
import type {
  AlertsTable,
  AttemptsTable,
  ConnectionsTable,
  Database,
  PipelinesTable,
  RunsTable,
  TaskInstancesTable,
} from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface KyselyMetadataStoreOptions {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The clock for the timestamps the store sets itself (createdAt, updatedAt). Default: the system clock. */
  clock?: () => Date;
  /** PostgreSQL: the schema the tables live in (created by migrate() when missing; on the search_path). */
  schema?: string;
  /** Override the migrations (tests). */
  migrations?: readonly Migration[];
}

/** Rows a multi-row INSERT carries at most (SQLite allows 32,766 parameters, PostgreSQL 65,535). */
const INSERT_CHUNK = 500;
/** Task ids one batch transition statement names at most. */
const TRANSITION_CHUNK = 1_000;

/** Namespaces for PostgreSQL advisory locks (the first key of the two-key form). */
const LOCK_MIGRATE = 0x6d64_0001;
const LOCK_LOG = 0x6d64_0002;

export class KyselyMetadataStore implements MetadataStore {
  readonly dialect: Dialect;
  private readonly db: Kysely<Database>;
  private readonly clock: () => Date;
  private readonly schema: string | undefined;
  private readonly migrations: readonly Migration[];

  constructor(options: KyselyMetadataStoreOptions) {
    this.db = options.db;
    this.dialect = options.dialect;
    this.clock = options.clock ?? (() => new Date());
    this.schema = options.schema;
    this.migrations = options.migrations ?? MIGRATIONS;
  }

  /** The Kysely instance, for tests and tools that need a query the port does not offer. */
  get kysely(): Kysely<Database> {
    return this.db;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  /**
   * Runs `work` in a write transaction on one connection. SQLite: BEGIN IMMEDIATE takes the database's write
   * lock up front (waiting up to busy_timeout), so transactions in other processes serialise instead of
   * failing on a read-to-write upgrade. PostgreSQL: a plain transaction; callers take row or advisory locks.
   */
  private async write<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (connection) => {
      await sql.raw(this.dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(connection);
      let result: T;
      try {
        result = await work(connection);
      } catch (error) {
        try {
          await sql.raw('rollback').execute(connection);
        } catch {
          // The connection is gone; the original error says why.
        }
        throw error;
      }
      await sql.raw('commit').execute(connection);
      return result;
    });
  }

  async migrate(): Promise<void> {
    await this.write(async (trx) => {
      if (this.dialect === 'postgres') {
        // Held until commit: a second process starting at the same moment waits, then finds nothing to do.
        await sql`select pg_advisory_xact_lock(${LOCK_MIGRATE}, 0)`.execute(trx);
        if (this.schema) await trx.schema.createSchema(this.schema).ifNotExists().execute();
      }
      await applyMigrations(trx, this.now(), this.migrations);
    });
  }

  async appliedMigrations(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('medallion_migrations')
      .select('version')
      .orderBy('version')
      .execute();
    return rows.map((row) => row.version);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ── pipelines ──────────────────────────────────────────────────────────────────────────────────────────

  async upsertPipeline(name: string, definitionHash: string): Promise<void> {
    const now = this.now();
    await this.db
      .insertInto('medallion_pipelines')
      .values({ name, definition_hash: definitionHash, paused: 0, created_at: now, updated_at: now })
      .onConflict((conflict) =>
        conflict.column('name').doUpdateSet({ definition_hash: definitionHash, updated_at: now }),
      )
      .execute();
  }

  async getPipeline(name: string): Promise<PipelineRecord | undefined> {
    const row = await this.db
      .selectFrom('medallion_pipelines')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toPipeline(row);
  }

  async listPipelines(): Promise<PipelineRecord[]> {
    const rows = await this.db.selectFrom('medallion_pipelines').selectAll().orderBy('name').execute();
    return rows.map(toPipeline);
  }

  async setPaused(name: string, paused: boolean): Promise<boolean> {
    const result = await this.db
      .updateTable('medallion_pipelines')
      .set({ paused: paused ? 1 : 0, updated_at: this.now() })
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async isPaused(name: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('medallion_pipelines')
      .select('paused')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.paused === 1;
  }

  // ── runs ───────────────────────────────────────────────────────────────────────────────────────────────

  async createRun(run: NewRun): Promise<{ run: RunRecord; created: boolean }> {
    const row: Selectable<RunsTable> = {
      id: run.id,
      pipeline: run.pipeline,
      logical_date: iso(run.logicalDate, 'logicalDate'),
      data_interval_start: iso(run.dataIntervalStart, 'dataIntervalStart'),
      data_interval_end: iso(run.dataIntervalEnd, 'dataIntervalEnd'),
      trigger: run.trigger,
      params: JSON.stringify(run.params),
      state: 'queued',
      created_at: this.now(),
      started_at: null,
      finished_at: null,
      summary: null,
      force: run.force ? 1 : 0,
    };
    const taskIds = new Set<string>();
    for (const task of run.tasks) {
      if (taskIds.has(task.taskId))
        throw new MedallionError(`run ${run.id}: task ${task.taskId} listed twice`);
      taskIds.add(task.taskId);
    }
    return this.write(async (trx) => {
      // A conflict on the one-run-per-logical-date index (or on the id) inserts nothing. On PostgreSQL a
      // concurrent insert of the same key waits for the other transaction, then does nothing if it committed.
      const inserted = await trx
        .insertInto('medallion_runs')
        .values(row)
        .onConflict((conflict) => conflict.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) {
        for (const chunk of chunks(run.tasks, INSERT_CHUNK)) {
          await trx
            .insertInto('medallion_task_instances')
            .values(
              chunk.map((task) => ({
                run_id: run.id,
                task_id: task.taskId,
                state: 'scheduled' as const,
                try_number: 0,
                max_tries: task.maxTries,
                next_try_at: null,
                fingerprint: null,
                updated_at: row.created_at,
              })),
            )
            .execute();
        }
        return { run: toRun(inserted), created: true };
      }
      const existing =
        run.trigger === 'manual'
          ? undefined
          : await trx
              .selectFrom('medallion_runs')
              .selectAll()
              .where('pipeline', '=', row.pipeline)
              .where('logical_date', '=', row.logical_date)
              .where('trigger', '<>', 'manual')
              .executeTakeFirst();
      if (!existing) throw new MedallionError(`a run with id ${run.id} already exists`);
      return { run: toRun(existing), created: false };
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.db
      .selectFrom('medallion_runs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRun(row);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const { pipeline, states, limit } = filter;
    if (states && states.length === 0) return [];
    const rows = await this.db
      .selectFrom('medallion_runs')
      .selectAll()
      .$if(pipeline !== undefined, (query) => query.where('pipeline', '=', pipeline ?? ''))
      .$if(states !== undefined, (query) => query.where('state', 'in', states ?? []))
      .orderBy('logical_date', 'desc')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .$if(limit !== undefined, (query) => query.limit(limit ?? 0))
      .execute();
    return rows.map(toRun);
  }

  async latestLogicalDate(pipeline: string, triggers?: RunTrigger[]): Promise<string | undefined> {
    if (triggers && triggers.length === 0) return undefined;
    const row = await this.db
      .selectFrom('medallion_runs')
      .select((eb) => eb.fn.max('logical_date').as('latest'))
      .where('pipeline', '=', pipeline)
      .$if(triggers !== undefined, (query) => query.where('trigger', 'in', triggers ?? []))
      .executeTakeFirst();
    return row?.latest ?? undefined;
  }

  async transitionRun(
    id: string,
    from: RunState[],
    to: RunState,
    fields: RunTransitionFields = {},
  ): Promise<boolean> {
    if (from.length === 0) return false;
    const result = await this.db
      .updateTable('medallion_runs')
      .set({
        state: to,
        ...(fields.startedAt !== undefined && { started_at: iso(fields.startedAt, 'startedAt') }),
        ...(fields.finishedAt !== undefined && { finished_at: iso(fields.finishedAt, 'finishedAt') }),
        ...(fields.summary !== undefined && { summary: toJson(fields.summary) }),
      })
      .where('id', '=', id)
      .where('state', 'in', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  // ── task instances ─────────────────────────────────────────────────────────────────────────────────────

  async listTaskInstances(runId: string): Promise<TaskInstanceRecord[]> {
    const rows = await this.db
      .selectFrom('medallion_task_instances')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('task_id')
      .execute();
    return rows.map(toTaskInstance);
  }

  async getTaskInstance(runId: string, taskId: string): Promise<TaskInstanceRecord | undefined> {
    const row = await this.db
      .selectFrom('medallion_task_instances')
      .selectAll()
      .where('run_id', '=', runId)
      .where('task_id', '=', taskId)
      .executeTakeFirst();
    return row && toTaskInstance(row);
  }

  async transitionTask(
    runId: string,
    taskId: string,
    from: TaskState[],
    to: TaskState,
    fields: TaskTransitionFields = {},
  ): Promise<boolean> {
    if (from.length === 0) return false;
    const result = await this.db
      .updateTable('medallion_task_instances')
      .set(this.taskChanges(to, fields))
      .where('run_id', '=', runId)
      .where('task_id', '=', taskId)
      .where('state', 'in', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async transitionTasks(
    runId: string,
    taskIds: readonly string[],
    from: TaskState[],
    to: TaskState,
    fields: TaskTransitionFields = {},
  ): Promise<string[]> {
    if (from.length === 0 || taskIds.length === 0) return [];
    const changes = this.taskChanges(to, fields);
    const changed: string[] = [];
    for (const chunk of chunks([...new Set(taskIds)], TRANSITION_CHUNK)) {
      const rows = await this.db
        .updateTable('medallion_task_instances')
        .set(changes)
        .where('run_id', '=', runId)
        .where('task_id', 'in', chunk)
        .where('state', 'in', from)
        .returning('task_id')
        .execute();
      changed.push(...rows.map((row) => row.task_id));
    }
    return changed.sort(compare);
  }

  async rescheduleTasks(
    runId: string,
    tasks: readonly { taskId: string; from: TaskState; maxTries: number }[],
  ): Promise<string[]> {
    if (tasks.length === 0) return [];
    return this.write(async (trx) => {
      const changed: string[] = [];
      for (const task of tasks) {
        const result = await trx
          .updateTable('medallion_task_instances')
          .set(this.taskChanges('scheduled', { nextTryAt: null, maxTries: task.maxTries }))
          .where('run_id', '=', runId)
          .where('task_id', '=', task.taskId)
          .where('state', '=', task.from)
          .executeTakeFirst();
        if (result.numUpdatedRows > 0n) changed.push(task.taskId);
      }
      if (changed.length > 0) {
        await trx
          .updateTable('medallion_runs')
          .set({ state: 'queued' })
          .where('id', '=', runId)
          .where('state', 'in', ['failed', 'success'])
          .execute();
      }
      return changed.sort(compare);
    });
  }

  /** The columns a task transition sets: the state, updatedAt, and the fields given. */
  private taskChanges(to: TaskState, fields: TaskTransitionFields): Updateable<TaskInstancesTable> {
    return {
      state: to,
      updated_at: this.now(),
      ...(fields.nextTryAt !== undefined && {
        next_try_at: fields.nextTryAt === null ? null : iso(fields.nextTryAt, 'nextTryAt'),
      }),
      ...(fields.fingerprint !== undefined && { fingerprint: fields.fingerprint }),
      ...(fields.maxTries !== undefined && { max_tries: fields.maxTries }),
    };
  }

  // ── attempts ───────────────────────────────────────────────────────────────────────────────────────────

  async claimTasks(
    worker: string,
    limit: number,
    now: string,
    scope: ClaimScope = {},
  ): Promise<AttemptRecord[]> {
    if (limit <= 0) return [];
    if (scope.pipelines?.length === 0 || scope.runIds?.length === 0) return [];
    const at = iso(now, 'now');
    const inScope = <Q extends SelectQueryBuilder<Database, 'medallion_task_instances', object>>(
      query: Q,
    ): Q =>
      query
        .where('state', '=', 'queued')
        .$if(scope.runIds !== undefined, (q) => q.where('run_id', 'in', [...(scope.runIds ?? [])]))
        .$if(scope.pipelines !== undefined, (q) =>
          q.where('run_id', 'in', (eb) =>
            eb
              .selectFrom('medallion_runs')
              .select('id')
              .where('pipeline', 'in', [...(scope.pipelines ?? [])]),
          ),
        ) as Q;
    // Polling an empty queue should not take the write lock (SQLite) or open a transaction.
    const anyQueued = await inScope(this.db.selectFrom('medallion_task_instances').select('task_id'))
      .limit(1)
      .executeTakeFirst();
    if (!anyQueued) return [];
    return this.write(async (trx) => {
      const candidates = await inScope(
        trx.selectFrom('medallion_task_instances').select(['run_id', 'task_id']),
      )
        .orderBy('updated_at')
        .orderBy('run_id')
        .orderBy('task_id')
        .limit(limit)
        // Rows another claimer has locked are passed over, not waited for: disjoint claims, no blocking.
        .$if(this.dialect === 'postgres', (query) => query.forUpdate().skipLocked())
        .execute();
      if (candidates.length === 0) return [];
      const claimed = await trx
        .updateTable('medallion_task_instances')
        .set((eb) => ({ state: 'running', try_number: eb('try_number', '+', 1), updated_at: at }))
        .where('state', '=', 'queued')
        .where((eb) =>
          eb.or(
            candidates.map((candidate) =>
              eb.and([eb('run_id', '=', candidate.run_id), eb('task_id', '=', candidate.task_id)]),
            ),
          ),
        )
        .returning(['run_id', 'task_id', 'try_number', 'updated_at'])
        .execute();
      const attempts: Selectable<AttemptsTable>[] = claimed
        .map((task) => ({
          run_id: task.run_id,
          task_id: task.task_id,
          attempt: task.try_number,
          state: 'running' as const,
          worker,
          started_at: at,
          heartbeat_at: at,
          finished_at: null,
          reason: null,
          metrics: null,
          output: null,
        }))
        .sort((a, b) => compare(a.run_id, b.run_id) || compare(a.task_id, b.task_id));
      for (const chunk of chunks(attempts, INSERT_CHUNK)) {
        await trx.insertInto('medallion_attempts').values(chunk).execute();
      }
      return attempts.map(toAttempt);
    });
  }

  async heartbeat(runId: string, taskId: string, attempt: number, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('medallion_attempts')
      .set({ heartbeat_at: iso(now, 'now') })
      .where('run_id', '=', runId)
      .where('task_id', '=', taskId)
      .where('attempt', '=', attempt)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async finishAttempt(
    runId: string,
    taskId: string,
    attempt: number,
    result: AttemptResult,
  ): Promise<boolean> {
    const finish = async (db: Kysely<Database>): Promise<boolean> => {
      const update = await db
        .updateTable('medallion_attempts')
        .set({
          state: result.state,
          finished_at: iso(result.finishedAt, 'finishedAt'),
          reason: result.reason ?? null,
          metrics: result.metrics === undefined ? null : JSON.stringify(result.metrics),
          output: result.output === undefined ? null : toJson(result.output),
        })
        .where('run_id', '=', runId)
        .where('task_id', '=', taskId)
        .where('attempt', '=', attempt)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (update.numUpdatedRows === 0n) return false;
      if (result.task) {
        await db
          .updateTable('medallion_task_instances')
          .set(this.taskChanges(result.task.state, result.task))
          .where('run_id', '=', runId)
          .where('task_id', '=', taskId)
          .where('state', '=', 'running')
          .execute();
      }
      return true;
    };
    // The attempt's end and its task's next state in one transaction: no crash can fall between them.
    return result.task ? this.write(finish) : finish(this.db);
  }

  async staleAttempts(heartbeatBefore: string): Promise<AttemptRecord[]> {
    const rows = await this.db
      .selectFrom('medallion_attempts')
      .selectAll()
      .where('state', '=', 'running')
      .where('heartbeat_at', '<', iso(heartbeatBefore, 'heartbeatBefore'))
      .orderBy('heartbeat_at')
      .orderBy('run_id')
      .orderBy('task_id')
      .execute();
    return rows.map(toAttempt);
  }

  async listAttempts(runId: string, taskId?: string): Promise<AttemptRecord[]> {
    const rows = await this.db
      .selectFrom('medallion_attempts')
      .selectAll()
      .where('run_id', '=', runId)
      .$if(taskId !== undefined, (query) => query.where('task_id', '=', taskId ?? ''))
      .orderBy('task_id')
      .orderBy('attempt')
      .execute();
    return rows.map(toAttempt);
  }

  // ── logs ───────────────────────────────────────────────────────────────────────────────────────────────

  async appendLog(runId: string, taskId: string, attempt: number, lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    await this.write(async (trx) => {
      if (this.dialect === 'postgres') {
        // Serialises appends to one attempt's log, so line numbers follow on without gaps or collisions.
        const key = JSON.stringify([runId, taskId, attempt]);
        await sql`select pg_advisory_xact_lock(${LOCK_LOG}, hashtext(${key}))`.execute(trx);
      }
      const last = await trx
        .selectFrom('medallion_task_logs')
        .select((eb) => eb.fn.max('line_no').as('last'))
        .where('run_id', '=', runId)
        .where('task_id', '=', taskId)
        .where('attempt', '=', attempt)
        .executeTakeFirst();
      const first = Number(last?.last ?? 0) + 1;
      const rows = lines.map((line, index) => ({
        run_id: runId,
        task_id: taskId,
        attempt,
        line_no: first + index,
        line,
      }));
      for (const chunk of chunks(rows, INSERT_CHUNK)) {
        await trx.insertInto('medallion_task_logs').values(chunk).execute();
      }
    });
  }

  async readLog(
    runId: string,
    taskId: string,
    attempt: number,
    afterLine = 0,
    limit?: number,
  ): Promise<LogPage> {
    const rows = await this.db
      .selectFrom('medallion_task_logs')
      .select(['line_no', 'line'])
      .where('run_id', '=', runId)
      .where('task_id', '=', taskId)
      .where('attempt', '=', attempt)
      .where('line_no', '>', afterLine)
      .orderBy('line_no')
      .$if(limit !== undefined, (query) => query.limit(limit ?? 0))
      .execute();
    const lastRow = rows[rows.length - 1];
    return { lines: rows.map((row) => row.line), nextLine: lastRow ? lastRow.line_no : afterLine };
  }

  // ── skipping unchanged work ────────────────────────────────────────────────────────────────────────────

  async lastSuccessFingerprint(pipeline: string, taskId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('medallion_task_instances as task')
      .innerJoin('medallion_runs as run', 'run.id', 'task.run_id')
      .select('task.fingerprint')
      .where('run.pipeline', '=', pipeline)
      .where('task.task_id', '=', taskId)
      .where('task.state', '=', 'success')
      .where('task.fingerprint', 'is not', null)
      .orderBy('task.updated_at', 'desc')
      .orderBy('run.logical_date', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.fingerprint ?? undefined;
  }

  // ── alerts ─────────────────────────────────────────────────────────────────────────────────────────────

  async recordAlert(report: AlertOccurrence): Promise<AlertDecision> {
    const at = iso(report.at, 'at');
    if (!Number.isFinite(report.groupWindowMs) || report.groupWindowMs < 0) {
      throw new MedallionError(
        `groupWindowMs must be a number of milliseconds ≥ 0, not ${report.groupWindowMs}`,
      );
    }
    const latest = {
      kind: report.kind,
      pipeline: report.pipeline ?? null,
      severity: report.severity,
      title: report.title,
      text: report.text,
    };
    return this.write(async (trx) => {
      // The cause's row first (the occurrences reference it); a concurrent first report waits here on PostgreSQL.
      await trx
        .insertInto('medallion_alerts')
        .values({
          cause: report.cause,
          ...latest,
          first_at: at,
          last_at: at,
          occurrences: 0,
          sent_occurrences: 0,
          last_sent_at: null,
          last_run_id: report.runId ?? null,
          last_error: null,
          last_error_at: null,
        })
        .onConflict((conflict) => conflict.column('cause').doNothing())
        .execute();
      // Locked until commit, before anything else references the row (the occurrence's foreign key would take a
      // share lock, and two of those would deadlock): reports of one cause are decided one after the other.
      const row = await trx
        .selectFrom('medallion_alerts')
        .selectAll()
        .where('cause', '=', report.cause)
        .$if(this.dialect === 'postgres', (query) => query.forUpdate())
        .executeTakeFirstOrThrow();
      let repeat = false;
      if (report.occurrence !== undefined && report.occurrence !== null) {
        const counted = await trx
          .insertInto('medallion_alert_occurrences')
          .values({ cause: report.cause, occurrence: report.occurrence, at })
          .onConflict((conflict) => conflict.columns(['cause', 'occurrence']).doNothing())
          .returning('cause')
          .executeTakeFirst();
        repeat = counted === undefined;
      }
      const before = { occurrences: Number(row.occurrences), sent: Number(row.sent_occurrences) };
      if (repeat) {
        return {
          send: false,
          repeat,
          occurrences: before.occurrences,
          grouped: before.occurrences - before.sent,
          firstAt: row.first_at,
          previousSentAt: row.last_sent_at,
        };
      }
      const occurrences = before.occurrences + 1;
      const send =
        row.last_sent_at === null || Date.parse(at) - Date.parse(row.last_sent_at) >= report.groupWindowMs;
      const firstAt = before.occurrences === 0 || at < row.first_at ? at : row.first_at;
      await trx
        .updateTable('medallion_alerts')
        .set({
          ...(at >= row.last_at && { ...latest, last_at: at, last_run_id: report.runId ?? null }),
          first_at: firstAt,
          occurrences,
          ...(send && { last_sent_at: at, sent_occurrences: occurrences }),
        })
        .where('cause', '=', report.cause)
        .execute();
      return {
        send,
        repeat,
        occurrences,
        grouped: occurrences - before.sent,
        firstAt,
        previousSentAt: row.last_sent_at,
      };
    });
  }

  async recordAlertDelivery(cause: string, at: string, error: string | null): Promise<void> {
    await this.db
      .updateTable('medallion_alerts')
      .set({ last_error: error, last_error_at: error === null ? null : iso(at, 'at') })
      .where('cause', '=', cause)
      .execute();
  }

  async listAlerts(filter: AlertFilter = {}): Promise<AlertRecord[]> {
    const { pipeline, limit } = filter;
    const rows = await this.db
      .selectFrom('medallion_alerts')
      .selectAll()
      .where('occurrences', '>', 0)
      .$if(pipeline !== undefined, (query) => query.where('pipeline', '=', pipeline ?? ''))
      .orderBy('last_at', 'desc')
      .orderBy('cause')
      .$if(limit !== undefined, (query) => query.limit(limit ?? 0))
      .execute();
    return rows.map(toAlert);
  }

  // ── connections ────────────────────────────────────────────────────────────────────────────────────────

  async putConnection(connection: NewConnection): Promise<void> {
    const now = this.now();
    const values = {
      kind: connection.kind,
      config: JSON.stringify(connection.config),
      secret: connection.secret,
      updated_at: now,
    };
    await this.db
      .insertInto('medallion_connections')
      .values({ name: connection.name, ...values, created_at: now })
      .onConflict((conflict) => conflict.column('name').doUpdateSet(values))
      .execute();
  }

  async getConnection(name: string): Promise<ConnectionRecord | undefined> {
    const row = await this.db
      .selectFrom('medallion_connections')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toConnection(row);
  }

  async listConnections(): Promise<ConnectionRecord[]> {
    const rows = await this.db.selectFrom('medallion_connections').selectAll().orderBy('name').execute();
    return rows.map(toConnection);
  }

  async deleteConnection(name: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('medallion_connections')
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

// ── rows ↔ records ─────────────────────────────────────────────────────────────────────────────────────

function toPipeline(row: Selectable<PipelinesTable>): PipelineRecord {
  return {
    name: row.name,
    definitionHash: row.definition_hash,
    paused: Number(row.paused) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRun(row: Selectable<RunsTable>): RunRecord {
  return {
    id: row.id,
    pipeline: row.pipeline,
    logicalDate: row.logical_date,
    dataIntervalStart: row.data_interval_start,
    dataIntervalEnd: row.data_interval_end,
    trigger: row.trigger,
    params: parseJsonObject(row.params),
    state: row.state,
    force: Number(row.force) === 1,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    summary: row.summary === null ? null : (JSON.parse(row.summary) as unknown),
  };
}

function toTaskInstance(row: Selectable<TaskInstancesTable>): TaskInstanceRecord {
  return {
    runId: row.run_id,
    taskId: row.task_id,
    state: row.state,
    tryNumber: Number(row.try_number),
    maxTries: Number(row.max_tries),
    nextTryAt: row.next_try_at,
    fingerprint: row.fingerprint,
    updatedAt: row.updated_at,
  };
}

function toAttempt(row: Selectable<AttemptsTable>): AttemptRecord {
  return {
    runId: row.run_id,
    taskId: row.task_id,
    attempt: Number(row.attempt),
    state: row.state,
    worker: row.worker,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    finishedAt: row.finished_at,
    reason: row.reason,
    metrics: row.metrics === null ? null : (JSON.parse(row.metrics) as AttemptMetrics),
    output: row.output === null ? null : (JSON.parse(row.output) as unknown),
  };
}

function toAlert(row: Selectable<AlertsTable>): AlertRecord {
  return {
    cause: row.cause,
    kind: row.kind,
    pipeline: row.pipeline,
    severity: row.severity,
    title: row.title,
    text: row.text,
    firstAt: row.first_at,
    lastAt: row.last_at,
    occurrences: Number(row.occurrences),
    sentOccurrences: Number(row.sent_occurrences),
    lastSentAt: row.last_sent_at,
    lastRunId: row.last_run_id,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
  };
}

function toConnection(row: Selectable<ConnectionsTable>): ConnectionRecord {
  return {
    name: row.name,
    kind: row.kind,
    config: parseJsonObject(row.config),
    secret: row.secret,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function parseJsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function toJson(value: unknown): string | null {
  return value === null ? null : (JSON.stringify(value) ?? null);
}

/** The timestamp in canonical ISO form (so that text order is time order), or an error naming the field. */
function iso(value: string, field: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new MedallionError(`${field} is not a timestamp: ${JSON.stringify(value)}`);
  }
  return date.toISOString();
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
