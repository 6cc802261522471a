/**
 * Child process of the benchmark: runs the pipeline once over --source into --lake (fresh, unless a run before
 * left it) and prints one JSON line on stdout: { summary, maxRssKb, processMs, cpuMs, operations }. Progress goes
 * to stderr.
 * --source and --lake take a directory or an s3:// URL (as the CLI does; S3 settings from the
 * MEDALLION_S3_* / AWS_* environment, the object cache in MEDALLION_CACHE_DIR). --db keeps the run history
 * (successive runs on one lake skip unchanged tasks, as the CLI's do); --full-refresh rebuilds incremental tables;
 * --bronze-only runs ingest and the bronze tasks alone, --slots N tasks at once (default 2).
 *
 *   node dist/bench/run-once.js --source DIR|s3://… --lake DIR|s3://… --memory-limit 1GB --logical-date YYYY-MM-DD
 *     [--db sqlite:FILE] [--full-refresh] [--bronze-only] [--slots N]
 */
import { parseArgs } from 'node:util';
import { openMetadataStore } from '../metadata/open.js';
import { openLake, openSource, storeSettings } from '../project/locations.js';
import { progressOnStderr } from '../cli/render.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { runPipeline } from '../runner/run-pipeline.js';
import type { MedallionChildOutput } from './measure.js';
import { OperationTally, timedLake, timedSource } from './timed-store.js';

const { values } = parseArgs({
  options: {
    source: { type: 'string' },
    lake: { type: 'string' },
    'memory-limit': { type: 'string', default: '1GB' },
    'logical-date': { type: 'string' },
    scratch: { type: 'string' },
    db: { type: 'string' },
    'full-refresh': { type: 'boolean', default: false },
    'bronze-only': { type: 'boolean', default: false },
    slots: { type: 'string', default: '2' },
  },
});
if (!values.source || !values.lake)
  throw new Error('usage: run-once.js --source DIR|s3://… --lake DIR|s3://… [--memory-limit 1GB]');

const settings = storeSettings(process.env);
// Every store call is timed, to show where a run on S3 spends its extra time.
const tally = new OperationTally();
const source = timedSource(await openSource(values.source, settings), tally);
const lake = timedLake(await openLake(values.lake, settings), tally);
tally.reset();
const store = values.db ? await openMetadataStore(values.db) : undefined;
const summary = await runPipeline({
  // Without its tables (and the headline over them), the pipeline is its ingest and bronze tasks.
  pipeline: values['bronze-only']
    ? {
        name: pipeline.name,
        sources: pipeline.sources,
        tables: [],
        ...(pipeline.macros && { macros: pipeline.macros }),
      }
    : pipeline,
  source,
  lake,
  ...(store && { store }),
  fullRefresh: values['full-refresh'],
  slots: Number(values.slots),
  memoryLimit: values['memory-limit'],
  ...(values['logical-date'] ? { logicalDate: values['logical-date'] } : {}),
  ...(values.scratch ? { scratchDir: values.scratch } : {}),
  progress: progressOnStderr('    '),
});
await store?.close();
const cpu = process.cpuUsage();
const output: MedallionChildOutput = {
  summary,
  maxRssKb: process.resourceUsage().maxRSS,
  processMs: Math.round(performance.now()),
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  operations: tally.operations(),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
