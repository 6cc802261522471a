import type { Kysely, QueryCreator, Selectable, SelectQueryBuilder } from 'kysely';
import type {
  AttemptMetrics,
  AttemptRecord,
  AttemptResult,
  ClaimScope,
  HeartbeatAnswer,
} from '../records.js';
import type { AttemptsTable, Database } from '../schema.js';
import { chunks, compare, iso, INSERT_CHUNK, toJson, type StoreCore } from './store-core.js';
import { taskChanges } from './tasks.js';

type TaskQuery = SelectQueryBuilder<Database, 'medallion_task_instances', object>;
type ScopeFilter = <Q extends TaskQuery>(query: Q) => Q;

export async function claimTasks(
  core: StoreCore,
  worker: string,
  limit: number,
  now: string,
  scope: ClaimScope = {},
): Promise<AttemptRecord[]> {
  if (limit <= 0) return [];
  if (scope.pipelines?.length === 0 || scope.runIds?.length === 0 || scope.queues?.length === 0) return [];
  const at = iso(now, 'now');
  const inScope: ScopeFilter = <Q extends TaskQuery>(query: Q): Q =>
    query
      .where('state', '=', 'queued')
      // A run being stopped starts no new try, whoever asks.
      .where('run_id', 'not in', (eb) =>
        eb.selectFrom('medallion_runs').select('id').where('stop_state', 'is not', null),
      )
      .$if(scope.runIds !== undefined, (q) => q.where('run_id', 'in', [...(scope.runIds ?? [])]))
      .$if(scope.queues !== undefined, (q) => q.where('queue', 'in', [...(scope.queues ?? [])]))
      .$if(scope.pipelines !== undefined, (q) =>
        q.where('run_id', 'in', (eb) =>
          eb
            .selectFrom('medallion_runs')
            .select('id')
            .where('pipeline', 'in', [...(scope.pipelines ?? [])]),
        ),
      ) as Q;
  if (core.dialect === 'postgres') return claimInOneStatement(core, worker, limit, at, inScope);
  // Polling an empty queue should not take the write lock (SQLite) or open a transaction.
  const anyQueued = await inScope(core.db.selectFrom('medallion_task_instances').select('task_id'))
    .limit(1)
    .executeTakeFirst();
  if (!anyQueued) return [];
  return core.write(async (trx) => {
    const candidates = await inScope(trx.selectFrom('medallion_task_instances').select(['run_id', 'task_id']))
      .orderBy('updated_at')
      .orderBy('run_id')
      .orderBy('task_id')
      .limit(limit)
      // Rows another claimer has locked are passed over, not waited for: disjoint claims, no blocking.
      .$if(core.dialect === 'postgres', (query) => query.forUpdate().skipLocked())
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
      .returning(['run_id', 'task_id', 'try_number', 'updated_at', 'queued_at'])
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
        queued_at: task.queued_at,
      }))
      .sort((a, b) => compare(a.run_id, b.run_id) || compare(a.task_id, b.task_id));
    for (const chunk of chunks(attempts, INSERT_CHUNK)) {
      await trx.insertInto('medallion_attempts').values(chunk).execute();
    }
    return attempts.map(toAttempt);
  });
}

/**
 * PostgreSQL: the claim as one statement (lock, mark running, insert the tries), so a claim costs one round trip
 * and an empty queue costs one read. Rows another claimer has locked are passed over, not waited for.
 */
async function claimInOneStatement(
  core: StoreCore,
  worker: string,
  limit: number,
  at: string,
  inScope: ScopeFilter,
): Promise<AttemptRecord[]> {
  const rows = await core.db
    .with('candidates', (db) =>
      inScope(db.selectFrom('medallion_task_instances').select(['run_id', 'task_id']))
        .orderBy('updated_at')
        .orderBy('run_id')
        .orderBy('task_id')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .with('claimed', (db) =>
      db
        .updateTable('medallion_task_instances as task')
        .from('candidates')
        .set((eb) => ({ state: 'running', try_number: eb('task.try_number', '+', 1), updated_at: at }))
        .whereRef('task.run_id', '=', 'candidates.run_id')
        .whereRef('task.task_id', '=', 'candidates.task_id')
        .returning(['task.run_id', 'task.task_id', 'task.try_number', 'task.queued_at']),
    )
    .insertInto('medallion_attempts')
    .columns(['run_id', 'task_id', 'attempt', 'state', 'worker', 'started_at', 'heartbeat_at', 'queued_at'])
    .expression((eb) =>
      eb
        .selectFrom('claimed')
        .select((claimed) => [
          'claimed.run_id',
          'claimed.task_id',
          'claimed.try_number',
          claimed.val('running').as('state'),
          claimed.val(worker).as('worker'),
          claimed.val(at).as('started_at'),
          claimed.val(at).as('heartbeat_at'),
          'claimed.queued_at',
        ]),
    )
    .returningAll()
    .execute();
  return rows.sort((a, b) => compare(a.run_id, b.run_id) || compare(a.task_id, b.task_id)).map(toAttempt);
}

export async function heartbeat(
  core: StoreCore,
  runId: string,
  taskId: string,
  attempt: number,
  now: string,
): Promise<HeartbeatAnswer> {
  const result = await core.db
    .updateTable('medallion_attempts')
    .set({ heartbeat_at: iso(now, 'now') })
    .where('run_id', '=', runId)
    .where('task_id', '=', taskId)
    .where('attempt', '=', attempt)
    .where('state', '=', 'running')
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) return 'ended';
  const run = await core.db
    .selectFrom('medallion_runs')
    .select('stop_state')
    .where('id', '=', runId)
    .executeTakeFirst();
  return run?.stop_state ? 'stopping' : 'running';
}

/** Fails every running attempt of the run with the reason (inside the caller's transaction). */
export async function failRunningAttempts(
  db: Kysely<Database>,
  runId: string,
  reason: string,
  finishedAt: string,
): Promise<void> {
  await db
    .updateTable('medallion_attempts')
    .set({ state: 'failed', reason, finished_at: iso(finishedAt, 'finishedAt') })
    .where('run_id', '=', runId)
    .where('state', '=', 'running')
    .execute();
}

/** Records the end of the attempt if it is still running (not yet failed as stale by a scheduler). */
function endRunningAttempt(
  db: QueryCreator<Database>,
  runId: string,
  taskId: string,
  attempt: number,
  result: AttemptResult,
) {
  return db
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
    .where('state', '=', 'running');
}

export async function finishAttempt(
  core: StoreCore,
  runId: string,
  taskId: string,
  attempt: number,
  result: AttemptResult,
): Promise<boolean> {
  const finish = async (db: Kysely<Database>): Promise<boolean> => {
    const update = await endRunningAttempt(db, runId, taskId, attempt, result).executeTakeFirst();
    if (update.numUpdatedRows === 0n) return false;
    if (result.task) {
      await db
        .updateTable('medallion_task_instances')
        .set(taskChanges(core, result.task.state, result.task))
        .where('run_id', '=', runId)
        .where('task_id', '=', taskId)
        .where('state', '=', 'running')
        .execute();
    }
    return true;
  };
  if (!result.task) return finish(core.db);
  if (core.dialect === 'postgres')
    return finishInOneStatement(core, runId, taskId, attempt, result, result.task);
  // The attempt's end and its task's next state in one transaction: no crash can fall between them.
  return core.write(finish);
}

/** PostgreSQL: the attempt's end and its task's next state in one statement (one round trip, one transaction). */
async function finishInOneStatement(
  core: StoreCore,
  runId: string,
  taskId: string,
  attempt: number,
  result: AttemptResult,
  task: NonNullable<AttemptResult['task']>,
): Promise<boolean> {
  const row = await core.db
    .with('ended', (db) => endRunningAttempt(db, runId, taskId, attempt, result).returning('attempt'))
    .with('advanced', (db) =>
      db
        .updateTable('medallion_task_instances')
        .set(taskChanges(core, task.state, task))
        .where('run_id', '=', runId)
        .where('task_id', '=', taskId)
        .where('state', '=', 'running')
        .where((eb) => eb.exists(eb.selectFrom('ended').select('attempt')))
        .returning('task_id'),
    )
    .selectFrom('ended')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n) > 0;
}

/** Every running attempt, oldest first. */
export async function runningAttempts(core: StoreCore): Promise<AttemptRecord[]> {
  const rows = await core.db
    .selectFrom('medallion_attempts')
    .selectAll()
    .where('state', '=', 'running')
    .orderBy('started_at')
    .orderBy('run_id')
    .orderBy('task_id')
    .execute();
  return rows.map(toAttempt);
}

export async function staleAttempts(
  core: StoreCore,
  heartbeatBefore: string,
  ofWorkers: readonly string[] = [],
): Promise<AttemptRecord[]> {
  const cutoff = iso(heartbeatBefore, 'heartbeatBefore');
  const rows = await core.db
    .selectFrom('medallion_attempts')
    .selectAll()
    .where('state', '=', 'running')
    .where((eb) =>
      ofWorkers.length === 0
        ? eb('heartbeat_at', '<', cutoff)
        : eb.or([eb('heartbeat_at', '<', cutoff), eb('worker', 'in', [...ofWorkers])]),
    )
    .orderBy('heartbeat_at')
    .orderBy('run_id')
    .orderBy('task_id')
    .execute();
  return rows.map(toAttempt);
}

export async function listAttempts(
  core: StoreCore,
  runId: string,
  taskId?: string,
): Promise<AttemptRecord[]> {
  const rows = await core.db
    .selectFrom('medallion_attempts')
    .selectAll()
    .where('run_id', '=', runId)
    .$if(taskId !== undefined, (query) => query.where('task_id', '=', taskId ?? ''))
    .orderBy('task_id')
    .orderBy('attempt')
    .execute();
  return rows.map(toAttempt);
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
    queuedAt: row.queued_at,
  };
}
