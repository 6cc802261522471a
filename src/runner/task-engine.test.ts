import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePipeline } from '../core/pipeline.js';
import type { AttemptRecord, MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { localLake } from '../table/lake-layout.js';
import { sparkServerOrSkip } from '../testing/spark.js';
import { runPipeline } from './run-pipeline.js';
import type { RunSummary } from './run-summary.js';
import { describeSparkTry, type SparkTryRecord } from './task-engine.js';

const server = sparkServerOrSkip('Spark tries');

/** Two gold tables on Spark: one whose query shuffles (stages of its own), and one that fails on Spark. */
const pipeline = definePipeline({
  name: 'spark_tries',
  sources: [],
  tables: [
    {
      name: 'weekdays',
      layer: 'gold',
      engine: 'spark',
      sql: () => 'SELECT id % 7 AS weekday, count(*) AS n FROM range(0, 100000, 1, 4) GROUP BY id % 7',
    },
    {
      name: 'broken',
      layer: 'gold',
      engine: 'spark',
      sql: () => "SELECT CAST('not a number' AS INT) AS n FROM range(0, 10, 1, 2)",
    },
  ],
});

describe('the log line of a Spark try', () => {
  it('names the application, its jobs and their stages, in ranges', () => {
    expect(
      describeSparkTry({ applicationId: 'app-1', jobIds: [2, 3, 4], stageIds: [4, 0, 1, 2, 7, 9, 8] }),
    ).toBe('spark application app-1 ran jobs 2-4 (stages 0-2, 4, 7-9)');
    expect(describeSparkTry({ applicationId: 'app-1', jobIds: [5], stageIds: [3] })).toBe(
      'spark application app-1 ran job 5 (stage 3)',
    );
    expect(describeSparkTry({ applicationId: 'app-1', jobIds: [], stageIds: [] })).toBe(
      'spark application app-1 ran no job',
    );
  });

  it('says when the job ids are unknown: Spark Connect names stages only', () => {
    expect(describeSparkTry({ applicationId: 'app-1', stageIds: [6, 7] })).toBe(
      'spark application app-1 ran stages 6-7 (its job ids: the Spark UI did not answer)',
    );
  });
});

describe.skipIf(!server)('a try on Spark', () => {
  let dir: string;
  let store: MetadataStore;
  let summary: RunSummary;
  const tryOf = async (task: string): Promise<{ attempt: AttemptRecord; log: string[] }> => {
    const [attempt] = await store.listAttempts(summary.runId, task);
    if (!attempt) throw new Error(`no try of ${task}`);
    const { lines } = await store.readLog(summary.runId, task, attempt.attempt, 0, 10_000);
    // Each line starts with its time.
    return { attempt, log: lines.map((line) => line.slice(line.indexOf(' ') + 1)) };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-spark-tries-'));
    store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    const lake = path.join(dir, 'lake');
    summary = await runPipeline({
      pipeline,
      store,
      lake: localLake(lake),
      locations: { source: null, lake, engine: { kind: 'spark', spark: { remote: server!.remote } } },
      scratchDir: dir,
    });
  }, 300_000);

  afterAll(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the Spark application, and the jobs and stages it ran, with its output and in its log', async () => {
    const { attempt, log } = await tryOf('gold.weekdays');
    expect(attempt.state).toBe('success');
    const record = (attempt.output as { data: { spark: SparkTryRecord } }).data.spark;
    expect(record.applicationId).toMatch(/^app-\d+-\d+$/);
    // Staging writes in one job at least; the test cluster's UI answers, so the job ids are known.
    expect(record.jobIds?.length).toBeGreaterThan(0);
    expect(record.stageIds.length).toBeGreaterThanOrEqual(record.jobIds?.length ?? 1);
    expect(
      [...record.stageIds, ...(record.jobIds ?? [])].every((id) => Number.isInteger(id) && id >= 0),
    ).toBe(true);
    expect(log).toContain(describeSparkTry(record));
    expect(log.find((line) => line.startsWith('engine spark'))).toContain(
      `application ${record.applicationId}`,
    );
  });

  it('logs the application and stages of a failed try too', async () => {
    const { attempt, log } = await tryOf('gold.broken');
    expect(attempt.state).toBe('failed');
    const weekdays = (await tryOf('gold.weekdays')).attempt.output as { data: { spark: SparkTryRecord } };
    expect(
      log.some((line) => line.startsWith(`spark application ${weekdays.data.spark.applicationId} ran`)),
    ).toBe(true);
  });
});
