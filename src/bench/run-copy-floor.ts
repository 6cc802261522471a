/**
 * Child process of the benchmark: the copy floor (copy-floor.ts) of the example pipeline's sources, once; prints
 * one JSON line on stdout: { steps, maxRssKb, processMs }.
 *
 *   node dist/bench/run-copy-floor.js --source DIR --out DIR --scratch DIR [--memory-limit 1GB]
 */
import { parseArgs } from 'node:util';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { runCopyFloor } from './copy-floor.js';
import type { CopyFloorChildOutput } from './copy-floor-bench.js';

const { values } = parseArgs({
  options: {
    source: { type: 'string' },
    out: { type: 'string' },
    scratch: { type: 'string' },
    'memory-limit': { type: 'string', default: '1GB' },
  },
});
if (!values.source || !values.out || !values.scratch) {
  throw new Error('usage: run-copy-floor.js --source DIR --out DIR --scratch DIR [--memory-limit 1GB]');
}

const steps = await runCopyFloor({
  pipeline,
  sourceDir: values.source,
  outDir: values.out,
  scratchDir: values.scratch,
  memoryLimit: values['memory-limit'],
});
const output: CopyFloorChildOutput = {
  steps,
  maxRssKb: process.resourceUsage().maxRSS,
  processMs: Math.round(performance.now()),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
