/**
 * A `medallion scheduler` process killed with SIGKILL in the middle of a run, and another one started on the same
 * metadata database: the dead process's tries are failed as stale (naming it), retried per policy, and the run
 * ends successfully with every side effect applied once. Real processes from the build: `npm run build` first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PipelineDefinition } from '../core/pipeline.js';
import { CONTRACTS_FILE, ESTABLISHMENTS_FILE, generateDemoData, NAF_FILE } from '../demo-data/generate.js';
import type { MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import type { RunSummary } from '../runner/run-summary.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { medallion } from '../testing/medallion-cli.js';
import {
  BUILT_INDEX_URL,
  signal,
  startSchedulerProcess,
  stopGracefully,
  waitFor,
  writePipelineModule,
  type SchedulerProcess,
} from '../testing/scheduler-process.js';
import { processWorkspaces, type Workspace as BaseWorkspace } from '../testing/workspace.js';

const processes = processWorkspaces();

interface Workspace extends BaseWorkspace {
  lake: string;
  source: string;
}

async function workspace(label: string): Promise<Workspace> {
  const base = await processes.workspace(label);
  const source = path.join(base.dir, 'source');
  await mkdir(source);
  return { ...base, lake: path.join(base.dir, 'lake'), source };
}

/** The flags of every scheduler of a test: a dead process's tries are found stale within about 2 s. */
function schedulerFlags(space: Workspace, pipelineFile: string): string[] {
  return [
    ...['--lake', space.lake, '--source', space.source, '--db', space.db, '--pipeline', pipelineFile],
    ...['--poll-ms', '100', '--heartbeat-ms', '200', '--stale-after-ms', '1500'],
  ];
}

/**
 * Queues a manual run as a user does (`medallion trigger`): the run records its lake and source, and the definition
 * Node loads from the module (vitest's own import rewrites the module's functions, so its fingerprint would differ).
 */
async function trigger(space: Workspace, pipelineFile: string): Promise<RunRecord> {
  const { name } = ((await import(pathToFileURL(pipelineFile).href)) as { default: PipelineDefinition })
    .default;
  const flags = [
    '--pipeline',
    pipelineFile,
    '--lake',
    space.lake,
    '--source',
    space.source,
    '--db',
    space.db,
  ];
  const result = await medallion(['trigger', name, ...flags, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as RunRecord;
}

/** Waits for the run to end; on a timeout, says what the scheduler printed and where the run's tasks are. */
async function finished(
  store: MetadataStore,
  runId: string,
  scheduler: SchedulerProcess,
): Promise<RunRecord> {
  return waitFor(
    async () => {
      const run = await store.getRun(runId);
      return run && (run.state === 'success' || run.state === 'failed') ? run : undefined;
    },
    {
      what: `run ${runId} to finish`,
      timeoutMs: 30_000,
      detail: async () =>
        `scheduler ${scheduler.pid} printed:\n${scheduler.output()}\n` +
        JSON.stringify({
          tasks: await store.listTaskInstances(runId),
          attempts: await store.listAttempts(runId),
        }),
    },
  );
}

/** SIGKILL, as the OOM killer or a power cut would: no handler runs, nothing is finished. */
async function killHard(scheduler: SchedulerProcess): Promise<void> {
  signal(scheduler, 'SIGKILL');
  expect((await scheduler.exited).signal).toBe('SIGKILL');
}

// On one host the next scheduler sees the PID gone and fails the try at once, without waiting for its heartbeat.
const STALE_REASON = (worker: string) =>
  new RegExp(
    `^its process ${worker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is gone \\(last heartbeat \\S+\\)$`,
  );

describe('a scheduler killed with SIGKILL in the middle of a run of custom tasks', () => {
  it('has its try failed as stale by the next scheduler, retried, and the run succeeds with each effect once', async () => {
    const space = await workspace('crash-custom');
    const effects = path.join(space.dir, 'effects.log');
    // Each try writes "<task> <attempt> <pid> start" and, if it gets to its end, "… end".
    const pipelineFile = await writePipelineModule(
      path.join(space.dir, 'pipeline.mjs'),
      `
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
const mark = (ctx, what) => appendFileSync(${JSON.stringify(effects)}, \`\${ctx.taskId} \${ctx.attempt} \${process.pid} \${what}\\n\`);
const step = (name, dependsOn, ms) => ({
  name,
  dependsOn,
  run: async (ctx) => {
    mark(ctx, 'start');
    await sleep(ms, undefined, { signal: ctx.signal });
    mark(ctx, 'end');
    return { detail: name + ' done' };
  },
});
export default definePipeline({
  name: 'crash_probe',
  sources: [],
  tables: [],
  taskDefaults: { retries: 1, retryDelay: '1s' },
  tasks: [step('prepare', [], 50), step('slow', ['prepare'], 2500), step('publish', ['slow'], 50)],
});
`,
    );
    const readEffects = (): string[] =>
      existsSync(effects) ? readFileSync(effects, 'utf8').trim().split('\n').filter(Boolean) : [];
    const run = await trigger(space, pipelineFile);

    const first = startSchedulerProcess(schedulerFlags(space, pipelineFile));
    const deadWorker = await first.worker();
    await waitFor(
      async () =>
        (await space.store.getTaskInstance(run.id, 'slow'))?.state === 'running' &&
        readEffects().includes(`slow 1 ${first.pid} start`),
      { what: 'the slow task to be running', detail: () => first.output() },
    );
    await killHard(first);
    expect(await space.store.listAttempts(run.id, 'slow')).toMatchObject([
      { attempt: 1, state: 'running', worker: deadWorker },
    ]);

    const second = startSchedulerProcess(schedulerFlags(space, pipelineFile));
    const liveWorker = await second.worker();
    const done = await finished(space.store, run.id, second);
    expect((await stopGracefully(second)).code).toBe(0);

    expect(done.state, second.output()).toBe('success');
    const slow = await space.store.listAttempts(run.id, 'slow');
    expect(slow).toMatchObject([
      { attempt: 1, state: 'failed', worker: deadWorker },
      { attempt: 2, state: 'success', worker: liveWorker },
    ]);
    expect(slow[0]?.reason).toMatch(STALE_REASON(deadWorker));
    // The retry waited its policy's delay (1 s) after the stale try was failed.
    expect(Date.parse(slow[1]!.startedAt) - Date.parse(slow[0]!.finishedAt!)).toBeGreaterThanOrEqual(1_000);
    for (const taskId of ['prepare', 'publish']) {
      expect(await space.store.listAttempts(run.id, taskId), taskId).toMatchObject([
        { attempt: 1, state: 'success' },
      ]);
    }
    expect(await space.store.listTaskInstances(run.id)).toMatchObject([
      { taskId: 'prepare', state: 'success', tryNumber: 1 },
      { taskId: 'publish', state: 'success', tryNumber: 1 },
      { taskId: 'slow', state: 'success', tryNumber: 2 },
    ]);
    // prepare ran once (before the kill), the killed try never reached its end, publish ran once after the retry.
    expect(readEffects()).toEqual([
      `prepare 1 ${first.pid} start`,
      `prepare 1 ${first.pid} end`,
      `slow 1 ${first.pid} start`,
      `slow 2 ${second.pid} start`,
      `slow 2 ${second.pid} end`,
      `publish 1 ${second.pid} start`,
      `publish 1 ${second.pid} end`,
    ]);
  });
});

describe('a scheduler killed with SIGKILL the moment it has recorded the end of a try', () => {
  it("has moved the try's task on with it, so that the next scheduler carries the run on", async () => {
    const space = await workspace('crash-recorded');
    const effects = path.join(space.dir, 'effects.log');
    const pipelineFile = await writePipelineModule(
      path.join(space.dir, 'pipeline.mjs'),
      `
import { appendFileSync } from 'node:fs';
const task = (name, dependsOn) => ({
  name,
  dependsOn,
  run: async (ctx) => appendFileSync(${JSON.stringify(effects)}, \`\${ctx.taskId} \${ctx.attempt}\\n\`),
});
export default definePipeline({
  name: 'crash_recorded',
  sources: [],
  tables: [],
  taskDefaults: { retries: 1, retryDelay: '1s' },
  tasks: [task('first', []), task('second', ['first'])],
});
`,
    );
    // Loaded before the CLI: the store's finishAttempt kills its own process as soon as it has ended the try of
    // `first` — the instant between recording a try's end and its task's next state, were they two writes.
    const hook = path.join(space.dir, 'die-after-finishing.mjs');
    await writeFile(
      hook,
      `
import { KyselyMetadataStore } from ${JSON.stringify(new URL('metadata/kysely-store.js', BUILT_INDEX_URL).href)};
const finishAttempt = KyselyMetadataStore.prototype.finishAttempt;
KyselyMetadataStore.prototype.finishAttempt = async function (runId, taskId, attempt, result) {
  const finished = await finishAttempt.call(this, runId, taskId, attempt, result);
  if (taskId === 'first') process.kill(process.pid, 'SIGKILL');
  return finished;
};
`,
    );
    const run = await trigger(space, pipelineFile);

    const first = startSchedulerProcess(schedulerFlags(space, pipelineFile), {
      nodeArgs: ['--import', pathToFileURL(hook).href],
    });
    expect((await first.exited).signal, first.output()).toBe('SIGKILL');
    expect(await space.store.listAttempts(run.id, 'first')).toMatchObject([{ attempt: 1, state: 'success' }]);
    expect(await space.store.getTaskInstance(run.id, 'first')).toMatchObject({ state: 'success' });

    const second = startSchedulerProcess(schedulerFlags(space, pipelineFile));
    const done = await finished(space.store, run.id, second);
    expect((await stopGracefully(second)).code).toBe(0);
    expect(done.state, second.output()).toBe('success');
    expect(readFileSync(effects, 'utf8')).toBe('first 1\nsecond 1\n');
  });
});

describe('schedulers killed with SIGKILL one after another at arbitrary moments of a run', () => {
  it('leave nothing behind that the last one cannot finish: every task succeeds and the run ends', async () => {
    const space = await workspace('crash-repeated');
    // 120 short tasks and one after them all: at any moment some try is starting, ending or being recorded.
    const pipelineFile = await writePipelineModule(
      path.join(space.dir, 'pipeline.mjs'),
      `
import { setTimeout as sleep } from 'node:timers/promises';
const names = Array.from({ length: 120 }, (_, index) => 'step_' + String(index).padStart(3, '0'));
const task = (name, dependsOn) => ({
  name,
  dependsOn,
  run: async (ctx) => {
    await sleep(40 + (names.indexOf(name) % 4) * 20, undefined, { signal: ctx.signal });
  },
});
export default definePipeline({
  name: 'crash_many',
  sources: [],
  tables: [],
  taskDefaults: { retries: 5, retryDelay: '1s' },
  tasks: [...names.map((name) => task(name, [])), task('finish', names)],
});
`,
    );
    const run = await trigger(space, pipelineFile);
    const dead = new Set<string>();
    for (const lifetimeMs of [300, 550, 200, 450]) {
      const scheduler = startSchedulerProcess([...schedulerFlags(space, pipelineFile), '--slots', '4']);
      dead.add(await scheduler.worker());
      await new Promise((resolve) => setTimeout(resolve, lifetimeMs));
      await killHard(scheduler);
    }
    const last = startSchedulerProcess([...schedulerFlags(space, pipelineFile), '--slots', '4']);
    const liveWorker = await last.worker();
    const done = await finished(space.store, run.id, last);
    expect((await stopGracefully(last)).code).toBe(0);

    expect(done.state, last.output()).toBe('success');
    const tasks = await space.store.listTaskInstances(run.id);
    expect(tasks).toHaveLength(121);
    expect(tasks.filter((task) => task.state !== 'success')).toEqual([]);
    const attempts = await space.store.listAttempts(run.id);
    // Every try ended; those that did not succeed were the dead processes' ones, failed as stale.
    expect(attempts.filter((attempt) => attempt.state === 'running')).toEqual([]);
    const failed = attempts.filter((attempt) => attempt.state === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const attempt of failed) {
      expect(dead.has(attempt.worker), attempt.worker).toBe(true);
      expect(attempt.reason).toMatch(STALE_REASON(attempt.worker));
    }
    const lastTries = attempts.filter((attempt) => attempt.worker === liveWorker).length;
    expect(lastTries).toBeGreaterThan(0);
    console.log(
      `${dead.size} schedulers killed: ${failed.length} of their tries failed as stale; ${attempts.length} tries in all, ${lastTries} by the last scheduler`,
    );
  });
});

const BRONZE_TABLE_OF: Record<string, string> = {
  [CONTRACTS_FILE]: 'marches_publics',
  [ESTABLISHMENTS_FILE]: 'etablissements',
  [NAF_FILE]: 'codes_naf',
};

/** The txn app ids of each commit of a Delta table, by version (from its _delta_log JSON files). */
async function txnAppIdsByCommit(tableDir: string): Promise<Map<number, string[]>> {
  const logDir = path.join(tableDir, '_delta_log');
  const commits = (await readdir(logDir)).filter((name) => /^\d{20}\.json$/.test(name)).sort();
  const byVersion = new Map<number, string[]>();
  for (const name of commits) {
    const actions = (await readFile(path.join(logDir, name), 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { txn?: { appId: string } });
    byVersion.set(
      Number(name.slice(0, 20)),
      actions.flatMap((action) => (action.txn ? [action.txn.appId] : [])),
    );
  }
  return byVersion;
}

/** Every Delta table directory of one area of a local lake. */
async function tableDirs(lake: string, area: string): Promise<string[]> {
  const root = path.join(lake, area);
  if (!existsSync(root)) return [];
  return (await readdir(root, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && existsSync(path.join(root, entry.name, '_delta_log')))
    .map((entry) => path.join(root, entry.name));
}

describe('a scheduler killed with SIGKILL while the example pipeline writes its silver tables', () => {
  it('resumes in the next scheduler without applying any table commit twice or loading a file twice', async () => {
    const space = await workspace('crash-example');
    const generated = await generateDemoData({ scale: 0.05, seed: 11, outDir: space.source });
    // The shipped pipeline, without its 6-hourly schedule and with retries 1 s apart instead of 5 min.
    const pipelineFile = await writePipelineModule(
      path.join(space.dir, 'pipeline.mjs'),
      `
import example from ${JSON.stringify(new URL('pipelines/medallion_data_pipeline/pipeline.js', BUILT_INDEX_URL).href)};
const { schedule: _schedule, ...rest } = example;
export default definePipeline({ ...rest, taskDefaults: { retries: 1, retryDelay: '1s' } });
`,
    );
    const run = await trigger(space, pipelineFile);
    const taskTxn = (taskId: string) => `medallion-task-${run.id}-${taskId}`;

    const first = startSchedulerProcess(schedulerFlags(space, pipelineFile));
    const deadWorker = await first.worker();
    // Killed right after silver.marches_publics committed its table, before it wrote its quarantine table and
    // recorded its success: the moment the task's Delta txn id exists for.
    const committed = path.join(
      space.lake,
      'silver',
      'marches_publics',
      '_delta_log',
      `${'0'.repeat(20)}.json`,
    );
    await waitFor(async () => existsSync(committed), {
      what: 'silver.marches_publics to commit',
      intervalMs: 2,
      timeoutMs: 30_000,
      detail: () => first.output(),
    });
    await killHard(first);
    const atKill = await space.store.listAttempts(run.id);
    const runningAtKill = atKill.filter((attempt) => attempt.state === 'running');
    expect(runningAtKill.map((attempt) => attempt.taskId)).toContain('silver.marches_publics');
    expect(runningAtKill.every((attempt) => attempt.worker === deadWorker)).toBe(true);
    expect([...(await txnAppIdsByCommit(path.dirname(path.dirname(committed)))).values()]).toEqual([
      [taskTxn('silver.marches_publics')],
    ]);

    const second = startSchedulerProcess(schedulerFlags(space, pipelineFile));
    const liveWorker = await second.worker();
    const done = await finished(space.store, run.id, second);
    expect((await stopGracefully(second)).code).toBe(0);
    expect(done.state, second.output()).toBe('success');
    expect((done.summary as RunSummary).status).toBe('success');

    // Each try the kill interrupted was failed as stale, naming the dead process, and its retry succeeded.
    const attempts = await space.store.listAttempts(run.id);
    for (const killed of runningAtKill) {
      const tries = attempts.filter((attempt) => attempt.taskId === killed.taskId);
      expect(tries, killed.taskId).toMatchObject([
        { attempt: 1, state: 'failed', worker: deadWorker },
        { attempt: 2, state: 'success', worker: liveWorker },
      ]);
      expect(tries[0]?.reason, killed.taskId).toMatch(STALE_REASON(deadWorker));
    }
    // Every other task ran exactly once.
    const killedIds = new Set(runningAtKill.map((attempt) => attempt.taskId));
    for (const attempt of attempts.filter((candidate) => !killedIds.has(candidate.taskId))) {
      expect(attempt, attempt.taskId).toMatchObject({ attempt: 1, state: 'success' });
    }
    expect((await space.store.listTaskInstances(run.id)).every((task) => task.state === 'success')).toBe(
      true,
    );

    // The retried silver.marches_publics found its commit recorded and did not write the table again.
    const silverMarches = await txnAppIdsByCommit(path.join(space.lake, 'silver', 'marches_publics'));
    expect([...silverMarches.values()]).toEqual([[taskTxn('silver.marches_publics')]]);
    // No commit applied twice in any table: each txn id is in one commit of its table at most.
    const tables = [
      ...(await tableDirs(space.lake, 'bronze')),
      ...(await tableDirs(space.lake, 'silver')),
      ...(await tableDirs(space.lake, 'gold')),
      ...(await tableDirs(space.lake, 'quarantine')),
    ];
    expect(tables.length).toBe(3 + 3 + 5 + 3);
    for (const dir of tables) {
      const appIds = [...(await txnAppIdsByCommit(dir)).values()].flat();
      expect(appIds.length, dir).toBeGreaterThan(0);
      expect(appIds.length, `${dir}: ${appIds.join(', ')}`).toBe(new Set(appIds).size);
    }
    // No landing file loaded twice: each bronze table holds as many rows as its source file has records.
    const layout = new LakeLayout(localLake(space.lake));
    for (const file of generated.files) {
      const table = BRONZE_TABLE_OF[file.name];
      const snapshot = await layout.table({ layer: 'bronze', table: table! }).snapshot();
      const rows = snapshot?.files.reduce(
        (sum, add) => sum + (JSON.parse(add.stats ?? '{}') as { numRecords: number }).numRecords,
        0,
      );
      expect(rows, `bronze.${table}`).toBe(file.records);
    }
  });
});
