import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { sparkServerOrSkip } from '../../testing/spark.js';
import { describeEngineConformance } from '../engine.conformance.js';
import { DuckDbEngine } from '../duckdb/engine.js';
import { SparkEngine } from './engine.js';

const server = sparkServerOrSkip('Spark engine conformance');

describe.skipIf(!server)('the Spark adapter against the test cluster', () => {
  // Reads the footers of the files Spark stages, as the run's ingestion engine does.
  let dir: string;
  let footers: DuckDbEngine;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-spark-footers-'));
    footers = await DuckDbEngine.create({ scratchDir: dir });
  });
  afterAll(async () => {
    footers?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describeEngineConformance('Spark', {
    open: (scratchDir) =>
      SparkEngine.create({ remote: server!.remote, scratchDir, localQuery: (sql) => footers.all(sql) }),
    close: async (engine) => engine.close(),
  });
});
