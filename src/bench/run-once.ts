/**
 * Child process of the benchmark: runs the pipeline once over --source into a fresh --lake and
 * prints one JSON line on stdout: { summary, maxRssKb, processMs, cpuMs, operations }. Progress goes
 * to stderr.
 * --source and --lake take a directory or an s3:// URL (as the CLI does; S3 settings from the
 * MEDALLION_S3_* / AWS_* environment, the object cache in MEDALLION_CACHE_DIR).
 *
 *   node dist/bench/run-once.js --source DIR|s3://… --lake DIR|s3://… --memory-limit 1GB --logical-date YYYY-MM-DD
 */
import { parseArgs } from 'node:util';
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
const summary = await runPipeline({
  pipeline,
  source,
  lake,
  memoryLimit: values['memory-limit'],
  ...(values['logical-date'] ? { logicalDate: values['logical-date'] } : {}),
  ...(values.scratch ? { scratchDir: values.scratch } : {}),
  progress: progressOnStderr('    '),
});
const cpu = process.cpuUsage();
const output: MedallionChildOutput = {
  summary,
  maxRssKb: process.resourceUsage().maxRSS,
  processMs: Math.round(performance.now()),
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  operations: tally.operations(),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
