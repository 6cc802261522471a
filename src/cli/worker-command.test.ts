/**
 * `medallion worker` as its own process beside `medallion scheduler --no-execute`, on a real PostgreSQL: what it
 * refuses at start and per run (saying why), and how SIGTERM drains it. The pipeline is custom tasks on a local
 * lake (hence --single-host where a worker must run it); the tries wait for a gate file the test creates.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttemptRecord, MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { medallion } from '../testing/medallion-cli.js';
import { postgresOrSkip, TestSchemas } from '../testing/postgres.js';
import {
  startMedallionProcess,
  stopGracefully,
  waitFor,
  writePipelineModule,
  type SchedulerProcess,
} from '../testing/scheduler-process.js';
import { processWorkspaces } from '../testing/workspace.js';

const baseUrl = postgresOrSkip('medallion worker');
const schemas = new TestSchemas(baseUrl);
const { workspace, defer } = processWorkspaces();
const FAST = ['--heartbeat-ms', '500', '--poll-ms', '200'];

afterAll(() => schemas.dropAll());

interface Project {
  dir: string;
  config: string;
  gate: string;
  store: MetadataStore;
  /** Another project file: the same database and lake, the pipeline's code changed. */
  changedConfig: string;
  /** Another project file: the same database and pipeline, no lake. */
  lakelessConfig: string;
}

/** jobs: `hold` waits for the gate file, then `after` runs; no retries. */
async function project(label: string): Promise<Project> {
  const { dir } = await workspace(label);
  const gate = path.join(dir, 'gate');
  const module = (file: string, description: string) =>
    writePipelineModule(
      path.join(dir, file),
      `
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default definePipeline({
  name: 'jobs',
  description: ${JSON.stringify(description)},
  sources: [],
  tables: [],
  taskDefaults: { retries: 0 },
  tasks: [
    { name: 'hold', run: async (ctx) => {
      while (!existsSync(${JSON.stringify(gate)})) await sleep(20, undefined, { signal: ctx.signal });
      return { detail: 'held' };
    } },
    { name: 'after', dependsOn: ['hold'], run: async () => ({ detail: 'after' }) },
  ],
});
`,
    );
  await module('jobs.mjs', 'v1');
  await module('jobs-v2.mjs', 'v2');
  const database = schemas.url(schemas.name(label.replace(/\W/g, '_')));
  const config = path.join(dir, 'medallion.config.json');
  const changedConfig = path.join(dir, 'changed.config.json');
  const lakelessConfig = path.join(dir, 'lakeless.config.json');
  const file = (pipelineModule: string, withLake = true) =>
    JSON.stringify({
      database,
      ...(withLake && { lake: 'lake' }),
      pipelines: { jobs: { module: pipelineModule } },
    });
  await writeFile(config, file('jobs.mjs'));
  await writeFile(changedConfig, file('jobs-v2.mjs'));
  await writeFile(lakelessConfig, file('jobs.mjs', false));
  const store = await openMetadataStore(database);
  defer(() => store.close());
  return { dir, config, gate, store, changedConfig, lakelessConfig };
}

function start(at: Project, args: string[], config = at.config): SchedulerProcess {
  return startMedallionProcess(['--config', config, ...args, ...FAST], { cwd: at.dir });
}

async function trigger(at: Project): Promise<string> {
  const result = await medallion(['--config', at.config, 'trigger', 'jobs', '--json'], {}, { cwd: at.dir });
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as RunRecord).id;
}

function running(at: Project, runId: string, taskId: string): Promise<AttemptRecord> {
  return waitFor(
    async () => (await at.store.listAttempts(runId, taskId)).find((attempt) => attempt.state === 'running'),
    { what: `${taskId} to be claimed`, timeoutMs: 30_000 },
  );
}

function finished(at: Project, runId: string): Promise<RunRecord> {
  return waitFor(
    async () => {
      const run = await at.store.getRun(runId);
      return run && ['success', 'failed', 'cancelled'].includes(run.state) && run;
    },
    { what: `run ${runId} to end`, timeoutMs: 30_000 },
  );
}

describe.skipIf(!baseUrl)('medallion worker', () => {
  it('refuses SQLite metadata at start, saying what to change', async () => {
    const { dir } = await workspace('worker-sqlite');
    const result = await medallion(['worker', '--db', `sqlite:${path.join(dir, 'm.db')}`], {}, { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/SQLite is a file on one machine/);
    expect(result.stderr).toMatch(/PostgreSQL \(postgres:\/\/…\).*--single-host/s);
  });

  it('refuses at start a project whose pipeline writes a local directory, naming it and what to change', async () => {
    const at = await project('worker-local-project');
    const result = await medallion(['--config', at.config, 'worker'], {}, { cwd: at.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /pipelines\.jobs\.lake: the lake of pipeline jobs, \S+lake, is a directory on this machine/,
    );
    expect(result.stderr).toMatch(/give it an s3:\/\/ lake in the project file, or pass --single-host/);
  });

  it('leaves the tasks of a run on a local lake to workers started with --single-host, saying why', async () => {
    const at = await project('worker-local-lake');
    start(at, ['scheduler', '--no-execute']);
    // Its own project binds the pipeline to no lake: it starts, and meets the local lake in the run.
    const shared = start(at, ['worker', '--name', 'shared'], at.lakelessConfig);
    const runId = await trigger(at);
    await waitFor(
      async () =>
        /not executed by this process: its lake \S+ is a directory on one machine/.test(shared.output()),
      { what: 'the worker to say why it leaves the run', detail: () => shared.output() },
    );
    expect(await at.store.listAttempts(runId)).toEqual([]);
    await writeFile(at.gate, '');
    start(at, ['worker', '--name', 'local', '--single-host']);
    expect((await finished(at, runId)).state).toBe('success');
    expect(new Set((await at.store.listAttempts(runId)).map((attempt) => attempt.worker))).toEqual(
      new Set(['local']),
    );
  });

  it('does not claim the tasks of a run planned from another definition of its pipeline, and says why', async () => {
    const at = await project('worker-definition');
    start(at, ['scheduler', '--no-execute']);
    const changed = start(at, ['worker', '--name', 'changed', '--single-host'], at.changedConfig);
    const runId = await trigger(at);
    await waitFor(async () => /planned from another definition of jobs/.test(changed.output()), {
      what: 'the worker with other code to say why it leaves the run',
      detail: () => changed.output(),
    });
    expect(await at.store.listAttempts(runId)).toEqual([]);
    await writeFile(at.gate, '');
    start(at, ['worker', '--name', 'same', '--single-host']);
    expect((await finished(at, runId)).state).toBe('success');
    expect((await at.store.listAttempts(runId)).every((attempt) => attempt.worker === 'same')).toBe(true);
  });

  it('on SIGTERM lets its running try finish and claims nothing more', async () => {
    const at = await project('worker-drain');
    start(at, ['scheduler', '--no-execute']);
    const first = start(at, ['worker', '--name', 'first', '--single-host']);
    const runId = await trigger(at);
    await running(at, runId, 'hold');
    const exit = stopGracefully(first, 20_000);
    await waitFor(async () => /stopping: running tasks get 60 s/.test(first.output()), { what: 'the drain' });
    await writeFile(at.gate, '');
    expect((await exit).code).toBe(0);
    expect(await at.store.listAttempts(runId, 'hold')).toMatchObject([{ state: 'success', worker: 'first' }]);
    // `after` was queued while `first` drained: it waits for another worker.
    expect(await at.store.listAttempts(runId, 'after')).toEqual([]);
    start(at, ['worker', '--name', 'second', '--single-host']);
    expect((await finished(at, runId)).state).toBe('success');
    expect(await at.store.listAttempts(runId, 'after')).toMatchObject([
      { state: 'success', worker: 'second' },
    ]);
  });

  it('hands a try still running after the grace period back, without spending a retry', async () => {
    const at = await project('worker-hand-back');
    start(at, ['scheduler', '--no-execute']);
    const first = start(at, ['worker', '--name', 'first', '--single-host', '--drain-grace-ms', '300']);
    const runId = await trigger(at);
    await running(at, runId, 'hold');
    expect((await stopGracefully(first, 20_000)).code).toBe(0);
    const [handedBack] = await at.store.listAttempts(runId, 'hold');
    expect(handedBack).toMatchObject({ attempt: 1, state: 'failed', worker: 'first' });
    expect(handedBack?.reason).toMatch(/^handed back: first stopped before the try ended/);
    expect(await at.store.getTaskInstance(runId, 'hold')).toMatchObject({ state: 'queued', maxTries: 2 });
    await writeFile(at.gate, '');
    start(at, ['worker', '--name', 'second', '--single-host']);
    expect((await finished(at, runId)).state).toBe('success');
    expect((await at.store.listAttempts(runId, 'hold')).map((a) => [a.attempt, a.state, a.worker])).toEqual([
      [1, 'failed', 'first'],
      [2, 'success', 'second'],
    ]);
  });
});
