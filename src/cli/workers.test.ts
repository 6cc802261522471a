/**
 * The deployment's topology in processes of their own, on a real PostgreSQL and MinIO, started as a user starts
 * it (deploy/processes/fleet.mjs): a scheduler that only schedules and workers that only execute. The example
 * pipeline at scale 1 survives a worker SIGKILLed mid-task and a PostgreSQL restart mid-run, and a task routed to
 * a queue waits, visibly, until the one worker serving that queue starts; each time the gold tables equal those of
 * one process doing it all.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunFinished } from '../core/run-state.js';
import { generateDemoData } from '../demo-data/generate.js';
import type { AttemptRecord, MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import examplePipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { openLake, openSource, storeSettings } from '../project/locations.js';
import { runPipeline } from '../runner/run-pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import type { LakeStores } from '../table/lake-layout.js';
import { compareLakeTables } from '../testing/delta-tables.js';
import { startFleet, type Fleet } from '../testing/fleet.js';
import { medallion } from '../testing/medallion-cli.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../testing/minio.js';
import { postgresOrSkip, TestSchemas } from '../testing/postgres.js';
import { startPrivatePostgres } from '../testing/postgres-process.js';
import {
  BUILT_INDEX_URL,
  killSchedulerProcesses,
  startMedallionProcess,
  waitFor,
  writePipelineModule,
} from '../testing/scheduler-process.js';

const baseUrl = postgresOrSkip('workers');
const server = s3ServerOrSkip('workers');
const schemas = new TestSchemas(baseUrl);

/** Short heartbeats and polls, so that a test sees in seconds what a deployment sees in tens of seconds. */
const FAST = ['--heartbeat-ms=500', '--stale-after-ms=5000', '--poll-ms=250', '--slots=2'];

let dir: string;
let sourceUrl: string;
let lakeBucket: string;
let reference: LakeStores;
/**
 * The date every run stands for, the reference's too: ages in gold are computed at it, so runs triggered on
 * another day (a suite crossing midnight) would differ from the reference.
 */
const LOGICAL_DATE = '2026-11-29';
let settings: ReturnType<typeof storeSettings>;

beforeAll(async () => {
  if (!baseUrl || !server) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-workers-'));
  settings = storeSettings(s3EnvFor(server, path.join(dir, 'cache')));
  const sourceDir = path.join(dir, 'source');
  await generateDemoData({ scale: 1, seed: 5, outDir: sourceDir });
  const sourceBucket = freshBucketName('src');
  const upload = await openLake(`s3://${sourceBucket}/incoming`, settings);
  for (const file of await new LocalDiskStore(sourceDir).list('')) {
    await upload.store('landing').putFile(path.join(sourceDir, file.key), file.key);
  }
  sourceUrl = `s3://${sourceBucket}/incoming/landing`;
  lakeBucket = freshBucketName('lake');
  // One process doing it all: what the fleet must reproduce.
  reference = await openLake(`s3://${lakeBucket}/reference`, settings);
  const summary = await runPipeline({
    pipeline: examplePipeline,
    source: await openSource(sourceUrl, settings),
    lake: reference,
    logicalDate: LOGICAL_DATE,
  });
  expect(summary.status).toBe('success');
}, 300_000);

afterAll(async () => {
  await killSchedulerProcesses();
  if (dir) await rm(dir, { recursive: true, force: true });
  await schemas.dropAll();
});

interface Space {
  dir: string;
  config: string;
  lake: string;
  store: MetadataStore;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * A project for one test: the example pipeline without its schedule, retried 1 s after a failure, with
 * silver.marches_publics routed to `queue` when given; its runs in the test's schema (or `database`).
 */
async function space(label: string, options: { queue?: string; database?: string } = {}): Promise<Space> {
  const root = path.join(dir, label);
  await mkdir(root, { recursive: true });
  const example = new URL('pipelines/medallion_data_pipeline/pipeline.js', BUILT_INDEX_URL).href;
  await writePipelineModule(
    path.join(root, 'pipeline.mjs'),
    `
import example from ${JSON.stringify(example)};
const { schedule: _schedule, ...rest } = example;
const queue = ${JSON.stringify(options.queue ?? null)};
export default definePipeline({
  ...rest,
  taskDefaults: { retries: 2, retryDelay: '1s' },
  tables: rest.tables.map((table) =>
    queue && table.layer === 'silver' && table.name === 'marches_publics' ? { ...table, policy: { queue } } : table),
});
`,
  );
  const database = options.database ?? schemas.url(schemas.name(label.replace(/\W/g, '_')));
  const lake = `s3://${lakeBucket}/${label}`;
  const config = path.join(root, 'medallion.config.json');
  await writeFile(
    config,
    JSON.stringify({
      database,
      pipelines: { medallion_data_pipeline: { module: 'pipeline.mjs', source: sourceUrl, lake } },
    }),
  );
  const store = await openMetadataStore(database);
  return {
    dir: root,
    config,
    lake,
    store,
    env: s3EnvFor(server!, path.join(root, 'cache')),
    close: () => store.close(),
  };
}

/** A scheduler that only schedules and these workers, on the space's project. */
function fleetOf(at: Space, workers: string[]): Promise<Fleet> {
  return startFleet({ dir: path.join(at.dir, 'fleet'), config: at.config, workers, args: FAST, env: at.env });
}

async function trigger(at: Space): Promise<string> {
  const result = await medallion(
    ['trigger', 'medallion_data_pipeline', '--config', at.config, '--logical-date', LOGICAL_DATE, '--json'],
    at.env,
  );
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as RunRecord).id;
}

async function finished(at: Space, runId: string, fleet: Fleet): Promise<RunRecord> {
  return waitFor(
    async () => {
      const run = await at.store.getRun(runId);
      return run && isRunFinished(run.state) && run;
    },
    {
      what: `run ${runId} to finish`,
      timeoutMs: 180_000,
      intervalMs: 200,
      detail: async () =>
        (
          await Promise.all(
            ['scheduler', 'worker-1', 'worker-2'].map((name) => fleet.log(name).catch(() => '')),
          )
        )
          .join('\n')
          .slice(-6_000),
    },
  );
}

/** The first running try of the task, as soon as it is claimed. */
function claimed(at: Space, runId: string, taskId: string): Promise<AttemptRecord> {
  return waitFor(
    async () => (await at.store.listAttempts(runId, taskId)).find((attempt) => attempt.state === 'running'),
    { what: `${taskId} to start`, timeoutMs: 120_000, intervalMs: 5 },
  );
}

/** Every gold table of the lake holds exactly the rows of the single-process reference. */
async function expectGoldAsReference(lake: string): Promise<void> {
  const gold = examplePipeline.tables
    .filter((table) => table.layer === 'gold')
    .map((table) => ({ layer: table.layer, table: table.name }));
  const scratch = path.join(dir, `compare-${Date.now()}`);
  for (const { table, rows, different } of await compareLakeTables(
    scratch,
    gold,
    reference,
    await openLake(lake, settings),
  )) {
    expect(different, table).toBe(0);
    expect(rows, table).toBeGreaterThan(0);
  }
}

/** No task succeeded twice, and every task ended in success (or was skipped as unchanged). */
async function expectEachTaskSucceededOnce(at: Space, runId: string): Promise<AttemptRecord[]> {
  const attempts = await at.store.listAttempts(runId);
  const tasks = await at.store.listTaskInstances(runId);
  for (const task of tasks) {
    expect(task.state, task.taskId).toMatch(/^(success|skipped)$/);
    const successes = attempts.filter(
      (attempt) => attempt.taskId === task.taskId && attempt.state === 'success',
    );
    expect(successes, task.taskId).toHaveLength(1);
  }
  return attempts;
}

describe.skipIf(!baseUrl || !server)('a scheduler that only schedules and three workers', () => {
  it('finish the run when one worker is SIGKILLed mid-task: its try is retried on another within seconds', async () => {
    const at = await space('killed');
    const fleet = await fleetOf(at, ['worker-1', 'worker-2', 'worker-3']);
    try {
      const runId = await trigger(at);
      const victim = (await claimed(at, runId, 'silver.marches_publics')).worker;
      await fleet.signal(victim, 'SIGKILL');
      const killedAt = Date.now();
      const runningAtKill = (await at.store.listAttempts(runId)).filter(
        (attempt) => attempt.state === 'running' && attempt.worker === victim,
      );
      expect(runningAtKill.map((attempt) => attempt.taskId)).toContain('silver.marches_publics');

      const run = await finished(at, runId, fleet);
      expect(run.state).toBe('success');
      const attempts = await expectEachTaskSucceededOnce(at, runId);
      for (const killed of runningAtKill) {
        const tries = attempts.filter((attempt) => attempt.taskId === killed.taskId);
        expect(tries[0], killed.taskId).toMatchObject({ attempt: 1, state: 'failed', worker: victim });
        expect(tries[0]?.reason).toMatch(new RegExp(`^its process ${victim} is gone`));
        const retry = tries.find((attempt) => attempt.state === 'success');
        expect(retry?.worker, killed.taskId).not.toBe(victim);
        expect(retry?.worker, killed.taskId).toMatch(/^worker-[123]$/);
        // Within the bound a deployment promises (30 s by default; the PID is gone on this host: at once).
        expect(Date.parse(retry!.startedAt) - killedAt, killed.taskId).toBeLessThan(30_000);
      }
      await expectGoldAsReference(at.lake);

      const fleetView = await medallion(['workers', '--all', '--json', '--config', at.config], at.env);
      const states = Object.fromEntries(
        (JSON.parse(fleetView.stdout) as { id: string; state: string }[]).map((p) => [p.id, p.state]),
      );
      expect(states[victim]).toBe('dead');
      for (const name of ['worker-1', 'worker-2', 'worker-3'].filter((name) => name !== victim)) {
        expect(states[name], name).toBe('alive');
      }
    } finally {
      await fleet.stop();
      await at.close();
    }
  });

  it('finish the run when PostgreSQL restarts mid-run: they reconnect, and no success is recorded twice', async () => {
    const postgres = await startPrivatePostgres(path.join(dir, 'private-postgres'));
    const database = new URL(postgres.url);
    database.searchParams.set('schema', 'restarted');
    const at = await space('restarted', { database: database.toString() });
    const fleet = await fleetOf(at, ['worker-1', 'worker-2']);
    try {
      const runId = await trigger(at);
      await claimed(at, runId, 'silver.marches_publics');
      await postgres.restart();
      const run = await finished(at, runId, fleet);
      expect(run.state, await fleet.log('scheduler')).toBe('success');
      // Every process went through the restart: none crashed on a dropped connection.
      for (const name of ['scheduler', 'worker-1', 'worker-2']) {
        expect(await fleet.alive(name), await fleet.log(name)).toBe(true);
      }
      await expectEachTaskSucceededOnce(at, runId);
      await expectGoldAsReference(at.lake);
    } finally {
      await fleet.stop();
      await at.close();
      await postgres.stop();
    }
  });

  it('leave a task of a queue nobody serves waiting, saying so, until a worker for that queue runs it', async () => {
    const at = await space('queued', { queue: 'heavy' });
    const fleet = await fleetOf(at, ['worker-1', 'worker-2']);
    try {
      // Triggered by someone who waits for the run: told why it does not move.
      const waiter = startMedallionProcess(
        [
          'trigger',
          'medallion_data_pipeline',
          '--config',
          at.config,
          '--logical-date',
          LOGICAL_DATE,
          '--wait',
          '--poll-ms',
          '200',
        ],
        { env: at.env },
      );
      const runId = await waitFor(async () => /^(run_\S+)$/m.exec(waiter.stdout())?.[1], {
        what: 'the run id',
        detail: () => waiter.output(),
      });
      const waiting = await waitFor(
        async () => {
          const tasks = await medallion(['tasks', runId, '--config', at.config], at.env);
          return (
            /silver\.marches_publics\s+queued.*waiting for queue heavy: no live worker serves it/.test(
              tasks.stdout,
            ) && tasks.stdout
          );
        },
        { what: 'silver.marches_publics to wait for queue heavy', timeoutMs: 120_000, intervalMs: 250 },
      );
      expect(waiting).toContain('medallion worker --queues heavy');
      await waitFor(async () => waiter.output().includes(`tasks of ${runId} wait for queue heavy`), {
        what: 'trigger --wait to say what the run waits for',
        detail: () => waiter.output(),
      });
      // The rest of the run goes on without it where it can, and nothing of queue heavy ran.
      expect(await at.store.listAttempts(runId, 'silver.marches_publics')).toEqual([]);

      await fleet.add(['heavy-1:heavy']);
      const run = await finished(at, runId, fleet);
      expect(run.state).toBe('success');
      expect((await waiter.exited).code).toBe(0);
      const attempts = await expectEachTaskSucceededOnce(at, runId);
      const byWorker = (worker: string) =>
        attempts.filter((attempt) => attempt.worker === worker).map((attempt) => attempt.taskId);
      expect(byWorker('heavy-1')).toEqual(['silver.marches_publics']);
      await expectGoldAsReference(at.lake);
    } finally {
      await fleet.stop();
      await at.close();
    }
  });
});
