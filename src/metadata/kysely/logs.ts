import { sql } from 'kysely';
import type { LogPage } from '../records.js';
import { chunks, INSERT_CHUNK, LOCK_LOG, type StoreCore } from './store-core.js';

export async function appendLog(
  core: StoreCore,
  runId: string,
  taskId: string,
  attempt: number,
  lines: string[],
  firstLine?: number,
): Promise<void> {
  if (lines.length === 0) return;
  if (firstLine !== undefined) return insertNumbered(core, runId, taskId, attempt, lines, firstLine);
  await core.write(async (trx) => {
    if (core.dialect === 'postgres') {
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

/**
 * The writer numbers its own lines (the one process running the attempt): plain INSERTs, no lock, no transaction;
 * a line already stored under its number (a write retried after its answer was lost) is skipped.
 */
async function insertNumbered(
  core: StoreCore,
  runId: string,
  taskId: string,
  attempt: number,
  lines: string[],
  firstLine: number,
): Promise<void> {
  const rows = lines.map((line, index) => ({
    run_id: runId,
    task_id: taskId,
    attempt,
    line_no: firstLine + index,
    line,
  }));
  for (const chunk of chunks(rows, INSERT_CHUNK)) {
    await core.db
      .insertInto('medallion_task_logs')
      .values(chunk)
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }
}

export async function readLog(
  core: StoreCore,
  runId: string,
  taskId: string,
  attempt: number,
  afterLine = 0,
  limit?: number,
): Promise<LogPage> {
  const rows = await core.db
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
