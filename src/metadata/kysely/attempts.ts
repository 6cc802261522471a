import type { Kysely, Selectable, SelectQueryBuilder } from 'kysely';
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
  const inScope = <Q extends SelectQueryBuilder<Database, 'medallion_task_instances', object>>(query: Q): Q =>
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

export async function finishAttempt(
  core: StoreCore,
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
        .set(taskChanges(core, result.task.state, result.task))
        .where('run_id', '=', runId)
        .where('task_id', '=', taskId)
        .where('state', '=', 'running')
        .execute();
    }
    return true;
  };
  // The attempt's end and its task's next state in one transaction: no crash can fall between them.
  return result.task ? core.write(finish) : finish(core.db);
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
