/**
 * Child process of the benchmark: runs the pipeline once over --source into a fresh --lake and
 * prints one JSON line on stdout: { summary, maxRssKb, processMs }. Progress goes to stderr.
 *
 *   node dist/bench/run-once.js --source DIR --lake DIR --memory-limit 1GB --logical-date YYYY-MM-DD
 */
import { parseArgs } from 'node:util';
import { progressLine } from '../cli/render.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { runPipeline } from '../runner/run-pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { localLake } from '../table/lake-layout.js';
import type { MedallionChildOutput } from './measure.js';

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
  throw new Error('usage: run-once.js --source DIR --lake DIR [--memory-limit 1GB]');

const summary = await runPipeline({
  pipeline,
  source: new LocalDiskStore(values.source),
  lake: localLake(values.lake),
  memoryLimit: values['memory-limit'],
  ...(values['logical-date'] ? { logicalDate: values['logical-date'] } : {}),
  ...(values.scratch ? { scratchDir: values.scratch } : {}),
  progress: (event) => {
    const line = progressLine(event);
    if (line) process.stderr.write(`    ${line}\n`);
  },
});
const output: MedallionChildOutput = {
  summary,
  maxRssKb: process.resourceUsage().maxRSS,
  processMs: Math.round(performance.now()),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
