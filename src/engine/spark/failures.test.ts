import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePipeline, type PipelineDefinition, type TaskPolicy } from '../../core/pipeline.js';
import type { AttemptRecord, MetadataStore } from '../../metadata/metadata-store.js';
import { openMetadataStore } from '../../metadata/open.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import type { RunSummary } from '../../runner/run-summary.js';
import { LakeLayout, localLake } from '../../table/lake-layout.js';
import { DuckDbEngine } from '../duckdb/engine.js';
import { executorPids, sparkServerOrSkip } from '../../testing/spark.js';
import { sparkConnectProcess, type SparkConnectProcess } from '../../testing/spark-connect-process.js';

const server = sparkServerOrSkip('Spark failures');

const ROWS = 4_000_000_000;
/** sum(id % 7) over 0 ≤ id < ROWS: 0 + 1 + … + 6 per full week of ids, then the rest. */
const EXPECTED_SUM = Math.floor(ROWS / 7) * 21 + ((ROWS % 7) * ((ROWS % 7) - 1)) / 2;

/**
 * A gold table on Spark whose one query takes seconds, in 16 tasks over both executors: long enough to lose its
 * server, or an executor, in the middle.
 */
function slowSumPipeline(policy: TaskPolicy): PipelineDefinition {
  return definePipeline({
    name: 'spark_failures',
    sources: [],
    tables: [
      {
        name: 'slow_sum',
        layer: 'gold',
        engine: 'spark',
        sql: () => `SELECT sum(id % 7) AS n FROM range(0, ${ROWS}, 1, 16)`,
        policy,
      },
    ],
  });
}

/** Runs the pipeline with its tables on the Spark server at `remote`; `onStarted` hears of its task's start. */
async function runOnSpark(
  dir: string,
  remote: string,
  store: MetadataStore,
  onStarted: () => void,
  policy: TaskPolicy = { retries: 1, retryDelay: '1s' },
): Promise<RunSummary> {
  const lake = path.join(dir, 'lake');
  return runPipeline({
    pipeline: slowSumPipeline(policy),
    store,
    lake: localLake(lake),
    // DuckDB by default: the table asks for Spark itself.
    locations: { source: null, lake, engine: { kind: 'duckdb', spark: { remote } } },
    retries: true,
    scratchDir: dir,
    progress: (event) => {
      if (event.type === 'task-started' && event.task === 'gold.slow_sum') onStarted();
    },
  });
}

/** The rows of the run's table as the retry or the surviving executors computed them. */
async function sumOf(dir: string): Promise<number> {
  const engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'read') });
  try {
    const table = new LakeLayout(localLake(path.join(dir, 'lake'))).table({
      layer: 'gold',
      table: 'slow_sum',
    });
    const snapshot = await table.snapshot();
    if (!snapshot) throw new Error('gold.slow_sum has no version');
    await engine.registerSnapshot('slow_sum', snapshot, table.store, table.root);
    return Number((await engine.one<{ n: string }>('SELECT n FROM slow_sum')).n);
  } finally {
    engine.close();
  }
}

/** Waits (a minute at most) until the worker runs an executor of the shared server's application. */
async function executorOf(worker: number): Promise<void> {
  for (let waited = 0; waited < 60_000 && executorPids(worker).length === 0; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe.skipIf(!server?.home)('a Spark Connect server killed in the middle of a try', () => {
  let dir: string;
  let connect: SparkConnectProcess;
  let store: MetadataStore;
  let summary: RunSummary;
  let tries: AttemptRecord[];
  let restarted: Promise<void> | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-spark-outage-'));
    // A server of this test's own (local mode, one core), not the shared cluster's.
    connect = await sparkConnectProcess(server!.home!, path.join(dir, 'connect'));
    await connect.start();
    store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    summary = await runOnSpark(
      dir,
      connect.remote,
      store,
      () => {
        // The server dies while the query runs, and is started again at once: the try's reattach finds it
        // unreachable, or back without the session when the start is quicker than the reattach retries; either
        // way the policy's retry finds it back.
        if (!restarted) {
          restarted = new Promise((resolve) => setTimeout(resolve, 3_000)).then(async () => {
            await connect.kill();
            await connect.start();
          });
        }
      },
      { retries: 2, retryDelay: '30s' },
    );
    await restarted;
    tries = await store.listAttempts(summary.runId, 'gold.slow_sum');
  }, 400_000);

  afterAll(async () => {
    await store?.close();
    await connect?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the try with an error naming the endpoint, and a retry the policy allows succeeds', () => {
    expect(summary.status).toBe('success');
    expect(tries[0]?.state).toBe('failed');
    expect(tries[0]?.reason).toContain(connect.remote);
    expect(tries[0]?.reason).toMatch(/is unreachable|restarted/);
    expect(tries.at(-1)?.state).toBe('success');
  });

  it('writes the table from the retry', async () => {
    expect(await sumOf(dir)).toBe(EXPECTED_SUM);
  });
});

describe.skipIf(!server?.workerPids.length)('a Spark executor killed in the middle of a try', () => {
  let dir: string;
  let store: MetadataStore;
  let summary: RunSummary;
  let killed: number | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-spark-executor-'));
    store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    const worker = server!.workerPids[0]!;
    // An executor lost by an earlier suite may still be being replaced: the test needs one to kill.
    await executorOf(worker);
    summary = await runOnSpark(dir, server!.remote, store, () => {
      setTimeout(() => {
        killed = executorPids(worker)[0];
        if (killed !== undefined) process.kill(killed, 'SIGKILL');
      }, 3_000);
    });
  }, 240_000);

  afterAll(async () => {
    // The worker starts another executor for the application: the cluster is whole again for other suites.
    await executorOf(server!.workerPids[0]!);
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses the executor but not the try: Spark runs its tasks again elsewhere and the result is whole', async () => {
    expect(killed).toBeDefined();
    expect(summary.status).toBe('success');
    const tries = await store.listAttempts(summary.runId, 'gold.slow_sum');
    expect(tries.map((attempt) => attempt.state)).toEqual(['success']);
    expect(await sumOf(dir)).toBe(EXPECTED_SUM);
  });
});
