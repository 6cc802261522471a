/**
 * Child process of the benchmark: runs medallion's ingest (landing copy with checksum, then one
 * manifest commit) once, from --source into a fresh --lake, and prints one JSON line on stdout
 * (IngestChildOutput): the time of the `ingest(context)` call alone, and the time spent in each kind
 * of store call. --source and --lake take a directory or an s3:// URL; S3 settings come from the
 * MEDALLION_S3_* environment, the object cache is MEDALLION_CACHE_DIR.
 *
 *   node dist/bench/run-ingest.js --source s3://bucket/prefix --lake s3://name-{layer} --scratch DIR
 *     [--pattern '*.csv'] [--memory-limit 1GB]
 */
import { parseArgs } from 'node:util';
import { openLake, openSource, storeSettings } from '../project/locations.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import { ingest } from '../runner/ingest.js';
import { standaloneContext } from '../runner/run-context.js';
import { LakeLayout } from '../table/lake-layout.js';
import type { IngestChildOutput } from './measure.js';
import { OperationTally, timedLake, timedSource } from './timed-store.js';

const { values } = parseArgs({
  options: {
    source: { type: 'string' },
    lake: { type: 'string' },
    scratch: { type: 'string' },
    pattern: { type: 'string', default: '*.csv' },
    'memory-limit': { type: 'string', default: '1GB' },
  },
});
if (!values.source || !values.lake || !values.scratch) {
  throw new Error(
    "usage: run-ingest.js --source DIR|s3://… --lake DIR|s3://… --scratch DIR [--pattern '*.csv'] [--memory-limit 1GB]",
  );
}

/** Only ingest runs, so one CSV source matching every file is the whole pipeline. */
const pipeline: PipelineDefinition = {
  name: 'bench_ingest',
  sources: [
    {
      name: 'bench_files',
      pattern: values.pattern,
      bronzeTable: 'bench_files',
      format: { type: 'csv', delimiter: ';', requiredColumns: [] },
    },
  ],
  tables: [],
};

const settings = storeSettings(process.env);
const tally = new OperationTally();
const source = timedSource(await openSource(values.source, settings), tally);
const lake = timedLake(await openLake(values.lake, settings), tally);
const engine = await DuckDbEngine.create({ scratchDir: values.scratch, memoryLimit: values['memory-limit'] });
const context = standaloneContext({ pipeline, source, lake: new LakeLayout(lake), engine });

const cpuBefore = process.cpuUsage();
tally.reset();
const started = performance.now();
const report = await ingest(context);
const ingestMs = Math.round(performance.now() - started);
const cpu = process.cpuUsage(cpuBefore);
engine.close();

const output: IngestChildOutput = {
  landed: report.landed.length,
  skipped: report.skipped.length,
  unmatched: report.unmatched.length,
  bytes: report.landed.reduce((sum, entry) => sum + entry.bytes, 0),
  ingestMs,
  operations: tally.operations(),
  maxRssKb: process.resourceUsage().maxRSS,
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  processCpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
  processMs: Math.round(performance.now()),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
