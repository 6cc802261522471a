/**
 * A metadata database with a long history, for the UI's latency benchmark: 1,000 runs of a 20-task pipeline (every 6
 * hours back from now), each task with one try, its metrics and 20 log lines — written with bulk inserts, as a year
 * of a busy pipeline would have left it.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import type { KyselyMetadataStore } from '../metadata/kysely-store.js';
import type { Database } from '../metadata/schema.js';

export const HISTORY = { runs: 1_000, tasks: 20, logLines: 20 } as const;
export const BENCH_PIPELINE = 'bench_ui';

/** A pipeline module of 20 custom tasks in five waves of four, each wave after the previous one. */
export async function writeBenchPipeline(dir: string): Promise<string> {
  const file = path.join(dir, 'bench-ui.mjs');
  const api = pathToFileURL(path.resolve('dist/index.js')).href;
  const tasks = Array.from({ length: HISTORY.tasks }, (_, index) => {
    const wave = Math.floor(index / 4);
    const dependsOn = wave === 0 ? [] : [0, 1, 2, 3].map((slot) => `task_${(wave - 1) * 4 + slot}`);
    return `{ name: 'task_${index}', dependsOn: ${JSON.stringify(dependsOn)}, run: async () => ({ detail: 'done' }) }`;
  });
  await writeFile(
    file,
    `import { definePipeline } from ${JSON.stringify(api)};\n` +
      `export default definePipeline({ name: '${BENCH_PIPELINE}', sources: [], tables: [], ` +
      `schedule: { every: '6h', startDate: '2020-01-01T00:00:00Z' }, tasks: [${tasks.join(',\n')}] });\n`,
  );
  return file;
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

/** Fills the store with the history; returns the run ids, newest first. */
export async function seedHistory(store: KyselyMetadataStore, lake: string): Promise<string[]> {
  const db: Kysely<Database> = store.kysely;
  const now = Date.now();
  const runs = Array.from({ length: HISTORY.runs }, (_, index) => {
    const logical = new Date(now - (index + 1) * 6 * 3600_000).toISOString();
    const started = new Date(Date.parse(logical) + 6 * 3600_000 + 1_000).toISOString();
    const failed = index % 17 === 5;
    return {
      id: `run_bench_${String(index).padStart(4, '0')}_${randomBytes(3).toString('hex')}`,
      logical,
      started,
      finished: new Date(Date.parse(started) + 90_000).toISOString(),
      failed,
    };
  });
  await db.deleteFrom('medallion_runs').execute();
  for (const chunk of chunks(runs, 200)) {
    await db
      .insertInto('medallion_runs')
      .values(
        chunk.map((run) => ({
          id: run.id,
          pipeline: BENCH_PIPELINE,
          logical_date: run.logical,
          data_interval_start: run.logical,
          data_interval_end: new Date(Date.parse(run.logical) + 6 * 3600_000).toISOString(),
          trigger: 'schedule' as const,
          params: '{}',
          state: run.failed ? ('failed' as const) : ('success' as const),
          created_at: run.started,
          started_at: run.started,
          finished_at: run.finished,
          summary: null,
          force: 0,
          full_refresh: 0,
          source_location: null,
          lake_location: lake,
          definition_hash: null,
          owner: null,
          stop_state: null,
          stop_reason: null,
          stop_requested_at: null,
        })),
      )
      .execute();
  }
  const instances = runs.flatMap((run) =>
    Array.from({ length: HISTORY.tasks }, (_, task) => {
      const state =
        run.failed && task === 9 ? 'failed' : run.failed && task > 11 ? 'upstream_failed' : 'success';
      const start = Date.parse(run.started) + Math.floor(task / 4) * 15_000;
      return { run, task, state, start };
    }),
  );
  for (const chunk of chunks(instances, 500)) {
    await db
      .insertInto('medallion_task_instances')
      .values(
        chunk.map(({ run, task, state }) => ({
          run_id: run.id,
          task_id: `task_${task}`,
          state: state as 'success' | 'failed' | 'upstream_failed',
          try_number: state === 'upstream_failed' ? 0 : 1,
          max_tries: 1,
          next_try_at: null,
          fingerprint: null,
          updated_at: run.finished,
        })),
      )
      .execute();
  }
  const tried = instances.filter(({ state }) => state !== 'upstream_failed');
  for (const chunk of chunks(tried, 500)) {
    await db
      .insertInto('medallion_attempts')
      .values(
        chunk.map(({ run, task, state, start }) => ({
          run_id: run.id,
          task_id: `task_${task}`,
          attempt: 1,
          state: state as 'success' | 'failed',
          worker: 'bench:1:seeded',
          started_at: new Date(start).toISOString(),
          heartbeat_at: new Date(start + 12_000).toISOString(),
          finished_at: new Date(start + 12_000).toISOString(),
          reason: state === 'failed' ? 'the seeded failure' : null,
          metrics: JSON.stringify({
            durationMs: 12_000,
            cpuMs: 900,
            peakRssBytes: 300 * 2 ** 20,
            rowsOut: 1000,
          }),
          output: JSON.stringify({ detail: 'done' }),
        })),
      )
      .execute();
  }
  const lines = tried.flatMap(({ run, task }) =>
    Array.from({ length: HISTORY.logLines }, (_, line) => ({
      run_id: run.id,
      task_id: `task_${task}`,
      attempt: 1,
      line_no: line + 1,
      line: `${run.started} sql ${line} ms: SELECT count(*) FROM some_table WHERE step = ${line}`,
    })),
  );
  for (const chunk of chunks(lines, 1_000))
    await db.insertInto('medallion_task_logs').values(chunk).execute();
  return runs.map((run) => run.id);
}
