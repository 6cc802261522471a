/**
 * Child process of the benchmark: runs the raw DuckDB floor once and prints one JSON line on
 * stdout: { floor, maxRssKb, processMs }; with --copy, the copy floor (copy-floor.ts) instead:
 * { steps, maxRssKb, processMs }. Progress goes to stderr.
 *
 *   node dist/bench/run-floor.js --source DIR --out DIR --scratch DIR --memory-limit 1GB
 *     --logical-date YYYY-MM-DD --json-mode document|split
 *   node dist/bench/run-floor.js --copy --source DIR --out DIR --scratch DIR --memory-limit 1GB
 */
import { parseArgs } from 'node:util';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import type { CopyFloorChildOutput } from './copy-floor-bench.js';
import { runCopyFloor } from './copy-floor.js';
import type { FloorChildOutput } from './measure.js';
import { runFloor } from './raw-duckdb-floor.js';

const { values } = parseArgs({
  options: {
    copy: { type: 'boolean', default: false },
    source: { type: 'string' },
    out: { type: 'string' },
    scratch: { type: 'string' },
    'memory-limit': { type: 'string', default: '1GB' },
    'logical-date': { type: 'string' },
    'json-mode': { type: 'string', default: 'split' },
  },
});
const mode = values['json-mode'];
if (
  !values.source ||
  !values.out ||
  !values.scratch ||
  (!values.copy && (!values['logical-date'] || (mode !== 'document' && mode !== 'split')))
) {
  throw new Error(
    'usage: run-floor.js [--copy] --source DIR --out DIR --scratch DIR [--logical-date YYYY-MM-DD] [--memory-limit 1GB] [--json-mode document|split]',
  );
}

const common = {
  pipeline,
  sourceDir: values.source,
  outDir: values.out,
  scratchDir: values.scratch,
  memoryLimit: values['memory-limit'],
};
const measured = values.copy
  ? { steps: await runCopyFloor(common) }
  : {
      floor: await runFloor({
        ...common,
        logicalDate: values['logical-date'] ?? '',
        jsonMode: mode === 'document' ? 'document' : 'split',
        log: (message) => process.stderr.write(`    ${message}\n`),
      }),
    };
const output: FloorChildOutput | CopyFloorChildOutput = {
  ...measured,
  maxRssKb: process.resourceUsage().maxRSS,
  processMs: Math.round(performance.now()),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
