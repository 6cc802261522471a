/**
 * Two `medallion scheduler` processes on one PostgreSQL database, both running a pipeline scheduled every second:
 * every scheduled run is created once, every try is claimed and executed by one process only, and what the tasks
 * did matches the attempts recorded. Real processes from the build: `npm run build` first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { postgresOrSkip, TestSchemas } from '../testing/postgres.js';
import {
  killSchedulerProcesses,
  startSchedulerProcess,
  stopGracefully,
  waitFor,
  writePipelineModule,
} from '../testing/scheduler-process.js';

const baseUrl = postgresOrSkip('Schedulers racing on PostgreSQL');
const schemas = new TestSchemas(baseUrl);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await killSchedulerProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => schemas.dropAll());

const TASKS = ['extract', 'left', 'load', 'right'];

describe.skipIf(baseUrl === undefined)('two schedulers on one PostgreSQL database', () => {
  it('create each scheduled run once and execute each try once, in one process or the other', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-schedulers-race-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const source = path.join(dir, 'source');
    await mkdir(source);
    const executions = path.join(dir, 'executions.log');
    const url = schemas.url();
    // Whole seconds, so that every logical date is startDate + k seconds.
    const startDate = new Date(Math.floor(Date.now() / 1000) * 1000 - 3000);
    const pipelineFile = await writePipelineModule(
      path.join(dir, 'pipeline.mjs'),
      `
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
const task = (name, dependsOn) => ({
  name,
  dependsOn,
  run: async (ctx) => {
    appendFileSync(${JSON.stringify(executions)}, \`\${ctx.runId} \${ctx.taskId} \${ctx.attempt} \${process.pid}\\n\`);
    await sleep(100);
  },
});
export default definePipeline({
  name: 'race_probe',
  sources: [],
  tables: [],
  schedule: { every: '1s', startDate: ${JSON.stringify(startDate.toISOString())}, catchup: true, maxActiveRuns: 3 },
  tasks: [task('extract', []), task('left', ['extract']), task('right', ['extract']), task('load', ['left', 'right'])],
});
`,
    );
    const flags = [
      ...['--lake', path.join(dir, 'lake'), '--source', source, '--db', url, '--pipeline', pipelineFile],
      ...['--poll-ms', '100', '--heartbeat-ms', '500', '--stale-after-ms', '10000', '--slots', '2'],
    ];
    // Both start at once: they migrate the fresh schema, register the pipeline and catch up at the same moment.
    const schedulers = [startSchedulerProcess(flags), startSchedulerProcess(flags)];
    const workers = await Promise.all(schedulers.map((scheduler) => scheduler.worker()));
    const store = await openMetadataStore(url);
    cleanups.push(() => store.close());
    await waitFor(async () => (await store.listRuns({ states: ['success'] })).length >= 8, {
      what: 'eight runs to succeed',
      timeoutMs: 20_000,
      detail: () => schedulers.map((scheduler) => scheduler.output()).join('\n'),
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const exits = await Promise.all(schedulers.map((scheduler) => stopGracefully(scheduler)));
    expect(exits, schedulers.map((scheduler) => scheduler.output()).join('\n')).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);

    // One run per logical date: startDate, +1 s, +2 s… with no gap, each scheduled.
    const runs = (await store.listRuns({ pipeline: 'race_probe' })).reverse();
    expect(runs.length).toBeGreaterThanOrEqual(8);
    expect(new Set(runs.map((run) => run.logicalDate)).size).toBe(runs.length);
    expect(runs.map((run) => run.logicalDate)).toEqual(
      runs.map((_, index) => new Date(startDate.getTime() + index * 1000).toISOString()),
    );
    expect(runs.every((run) => run.trigger === 'schedule')).toBe(true);

    // Each (run, task, try) was executed once, by the process whose attempt the database records.
    const lines = existsSync(executions) ? readFileSync(executions, 'utf8').trim().split('\n') : [];
    const executed = lines.map((line) => {
      const [runId, taskId, attempt, pid] = line.split(' ');
      return { key: `${runId}/${taskId}#${attempt}`, runId: runId!, taskId: taskId!, pid: Number(pid) };
    });
    expect(new Set(executed.map((entry) => entry.key)).size).toBe(executed.length);
    const workerOfPid = new Map(schedulers.map((scheduler, index) => [scheduler.pid, workers[index]]));
    const attempts = await allAttempts(
      store,
      runs.map((run) => run.id),
    );
    expect(attempts.map((attempt) => attempt.key).sort()).toEqual(executed.map((entry) => entry.key).sort());
    const byKey = new Map(attempts.map((attempt) => [attempt.key, attempt]));
    for (const entry of executed) {
      expect(byKey.get(entry.key), entry.key).toMatchObject({
        state: 'success',
        worker: workerOfPid.get(entry.pid),
      });
    }
    // Every task of every finished run ran once (no retries here: nothing failed).
    const succeeded = runs.filter((run) => run.state === 'success');
    expect(succeeded.length).toBeGreaterThanOrEqual(8);
    for (const run of succeeded) {
      expect(
        executed
          .filter((entry) => entry.runId === run.id)
          .map((entry) => entry.taskId)
          .sort(),
      ).toEqual(TASKS);
    }

    const perProcess = schedulers.map(
      (scheduler) => executed.filter((entry) => entry.pid === scheduler.pid).length,
    );
    console.log(
      `schedulers race: ${runs.length} runs, ${executed.length} tries, split ${perProcess.join('/')} between the two processes`,
    );
    if (perProcess.some((count) => count === 0)) {
      console.warn(
        'schedulers race: one process did all the work (acceptable, but the race was not exercised)',
      );
    }
  });
});

async function allAttempts(
  store: MetadataStore,
  runIds: readonly string[],
): Promise<{ key: string; state: string; worker: string }[]> {
  const attempts = [];
  for (const runId of runIds) {
    for (const attempt of await store.listAttempts(runId)) {
      attempts.push({
        key: `${attempt.runId}/${attempt.taskId}#${attempt.attempt}`,
        state: attempt.state,
        worker: attempt.worker,
      });
    }
  }
  return attempts;
}
