/** Command-line flags of `npm run bench`. */
import { parseArgs } from 'node:util';
import type { JsonReadMode } from './raw-duckdb-floor.js';

export interface BenchOptions {
  scales: number[];
  out: string;
  memoryLimit: string;
  /** Working directory; undefined means a fresh one under the OS temp dir, removed at the end. */
  work: string | undefined;
  floorJson: JsonReadMode;
  /** The arguments as given, for the report's "made with" line. */
  argv: string[];
}

export const USAGE = `usage: npm run bench -- [options]
  --scales 1,10        sample-data scales to measure (default 1,10)
  --with-100           also measure scale 100 (minutes: ~1 GB of JSON)
  --out FILE           report file (default BENCHMARKS.md)
  --memory-limit SIZE  DuckDB memory limit for both runs (default 1GB)
  --work DIR           working directory, kept afterwards (default: a temp dir, removed)
  --floor-json MODE    how the raw-SQL floor reads the JSON: split (default: split to NDJSON with
                       splitJsonRecords, then read_json in parallel; the faster) or document
                       (read_json of the whole document + unnest; needs ~4x its size in memory)`;

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      scales: { type: 'string', default: '1,10' },
      'with-100': { type: 'boolean', default: false },
      out: { type: 'string', default: 'BENCHMARKS.md' },
      'memory-limit': { type: 'string', default: '1GB' },
      work: { type: 'string' },
      'floor-json': { type: 'string', default: 'split' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const scales = values.scales.split(',').map((text) => Number(text.trim()));
  if (scales.some((scale) => !Number.isFinite(scale) || scale <= 0)) {
    throw new Error(`--scales takes positive numbers separated by commas, got '${values.scales}'`);
  }
  if (values['with-100']) scales.push(100);
  const floorJson = values['floor-json'];
  if (floorJson !== 'document' && floorJson !== 'split') {
    throw new Error(`--floor-json takes split or document, got '${floorJson}'`);
  }
  if (!/^\d+(\.\d+)?\s*[KMGT]i?B$/i.test(values['memory-limit'])) {
    throw new Error(`--memory-limit takes a size such as 1GB or 512MB, got '${values['memory-limit']}'`);
  }
  return {
    scales: [...new Set(scales)].sort((a, b) => a - b),
    out: values.out,
    memoryLimit: values['memory-limit'],
    work: values.work,
    floorJson,
    argv,
  };
}
