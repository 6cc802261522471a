import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePipeline } from '../../core/pipeline.js';
import type { AttemptRecord, MetadataStore } from '../../metadata/metadata-store.js';
import { openMetadataStore } from '../../metadata/open.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import type { RunSummary } from '../../runner/run-summary.js';
import { localLake } from '../../table/lake-layout.js';
import { sparkProxy, sparkServerOrSkip, type SparkProxy } from '../../testing/spark.js';

const server = sparkServerOrSkip('Spark Connect outage');

/** A gold table on Spark whose one query takes seconds: long enough to lose its server in the middle. */
const pipeline = definePipeline({
  name: 'spark_outage',
  sources: [],
  tables: [
    {
      name: 'slow_sum',
      layer: 'gold',
      engine: 'spark',
      sql: () => 'SELECT sum(id % 7) AS n FROM range(0, 4000000000)',
      policy: { retries: 1, retryDelay: '1s' },
    },
  ],
});

describe.skipIf(!server)('a Spark Connect server lost in the middle of a try', () => {
  let dir: string;
  let proxy: SparkProxy;
  let store: MetadataStore;
  let summary: RunSummary;
  let tries: AttemptRecord[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-spark-outage-'));
    proxy = await sparkProxy(server!.remote);
    store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    let lost = false;
    const lake = path.join(dir, 'lake');
    summary = await runPipeline({
      pipeline,
      store,
      lake: localLake(lake),
      // DuckDB by default: the table asks for Spark itself.
      locations: { source: null, lake, engine: { kind: 'duckdb', spark: { remote: proxy.remote } } },
      retries: true,
      scratchDir: dir,
      progress: (event) => {
        if (event.type === 'task-started' && event.task === 'gold.slow_sum' && !lost) {
          lost = true;
          // The server goes away while the query runs…
          setTimeout(() => void proxy.down(), 2_500);
        }
        // …and comes back once the try has given up on it.
        if (event.type === 'task-finished' && event.status === 'failed') void proxy.up();
      },
    });
    tries = await store.listAttempts(summary.runId, 'gold.slow_sum');
  }, 240_000);

  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the try with an error naming the endpoint, and the retry the policy allows succeeds', () => {
    expect(summary.status).toBe('success');
    expect(tries.map((attempt) => attempt.state)).toEqual(['failed', 'success']);
    expect(tries[0]?.reason).toContain(proxy.remote);
    expect(tries[0]?.reason).toMatch(/unreachable|unavailable|connection/i);
  });

  it('writes the table from the retry', () => {
    const table = summary.tables.find((entry) => entry.table === 'slow_sum');
    expect(table?.rows).toBe(1);
  });
});
