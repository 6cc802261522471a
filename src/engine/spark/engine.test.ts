import { afterAll, beforeAll } from 'vitest';
import { sparkServerOrSkip } from '../../testing/spark.js';
import { describeEngineConformance } from '../engine.conformance.js';
import { DuckDbEngine } from '../duckdb/engine.js';
import { SparkEngine } from './engine.js';

const server = sparkServerOrSkip('Spark engine conformance');

if (server) {
  // Reads the footers of the files Spark stages, as the run's ingestion engine does.
  let footers: DuckDbEngine;
  beforeAll(async () => {
    footers = await DuckDbEngine.create({
      scratchDir: `${process.env.TMPDIR ?? '/tmp'}/medallion-spark-footers`,
    });
  });
  afterAll(() => footers.close());

  describeEngineConformance('Spark', {
    open: (scratchDir) =>
      SparkEngine.create({ remote: server.remote, scratchDir, localQuery: (sql) => footers.all(sql) }),
    close: async (engine) => engine.close(),
  });
}
