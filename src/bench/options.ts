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
  /**
   * The S3 / MinIO transfer benchmark: 'on' (--s3: fail when no server is found), 'off' (--no-s3),
   * or 'auto' (run it when MEDALLION_TEST_S3_ENDPOINT is set or .cache/services/minio.env exists).
   */
  s3: 'on' | 'off' | 'auto';
  /** Size of the large source file, in MiB. */
  s3LargeMiB: number;
  /** Number of small source files. */
  s3SmallFiles: number;
  /** The scheduling overhead (scheduling.ts): 'on' (default), 'off' (--no-scheduling) or 'only' (--scheduling-only). */
  scheduling: 'on' | 'off' | 'only';
  /** The web UI's latency, grid drawing and bundle (ui-latency.ts): 'on', 'off' (--no-ui) or 'only' (--ui-only). */
  ui: 'on' | 'off' | 'only';
  /** No-op tasks and the example pipeline through worker processes (workers.ts): 'on', 'off' (--no-workers) or 'only' (--workers-only). */
  workers: 'on' | 'off' | 'only';
  /** The example pipeline on DuckDB and on Spark (engines.ts): 'on', 'off' (--no-engines) or 'only' (--engines-only). */
  engines: 'on' | 'off' | 'only';
  /** A 1,000-commit table opened with and without checkpoints (table-open.ts): 'on', 'off' (--no-tables) or 'only' (--tables-only). */
  tables: 'on' | 'off' | 'only';
  /** Successive runs adding contract files, incremental beside full rebuilds (incremental.ts): 'on', 'off' (--no-incremental) or 'only' (--incremental-only). */
  incremental: 'on' | 'off' | 'only';
  /** The lake's starting scale, the scale of each added contracts file, how many runs add one, republished share. */
  incrementalStartScale: number;
  incrementalStepScale: number;
  incrementalRuns: number;
  incrementalRepublished: number;
  incrementalRepublishedFrom: 'previous' | 'any';
  /** Each bronze task beside DuckDB alone copying its file, at each of `scales` (copy-floor-bench.ts): 'on', 'off' (--no-copy-floor) or 'only' (--copy-floor-only). */
  copyFloor: 'on' | 'off' | 'only';
  copyFloorRounds: number;
  /** Runs of each workers case. */
  workersRepeats: number;
  /** Slots of each worker process in the no-op runs: every worker count is run with each; the first is judged. */
  workersSlots: number[];
  /** Runs of each scheduling case. */
  schedulingRepeats: number;
  /** Slot counts the fan pipeline is scheduled with. */
  schedulingFanSlots: number[];
  /** The arguments as given, for the report's "made with" line. */
  argv: string[];
}

export const USAGE = `usage: npm run bench -- [options]
  --scales 1,10        sample-data scales to measure (default 1,10)
  --with-100           also measure scale 100 (minutes: ~1 GB of JSON)
  --out FILE           report file (default BENCHMARKS.md)
  --memory-limit SIZE  DuckDB memory limit for both runs (default 768MB)
  --work DIR           working directory, kept afterwards (default: a temp dir, removed)
  --floor-json MODE    how the raw-SQL floor reads the JSON: split (default: split to NDJSON with
                       splitJsonRecords, then read_json in parallel; the faster) or document
                       (read_json of the whole document + unnest; needs ~4x its size in memory)
  --s3                 also measure S3 transfers against MinIO (ingest of a large file and of many
                       small files, beside a single-stream GetObject/PutObject baseline, and the
                       pipeline at scale 10 on MinIO beside local disk). On by default when
                       MEDALLION_TEST_S3_ENDPOINT is set or .cache/services/minio.env exists
                       (\`bash scripts/services/minio.sh start\`); --s3 fails when neither does
  --no-s3              skip the S3 transfers even when a server is found
  --s3-large-mib N     size of the large source file in MiB (default 1024)
  --s3-small-files N   number of small source files (default 10000)
  --no-scheduling      skip the scheduling overhead (1,000 and 100 no-op tasks through the scheduler on
                       SQLite, and on PostgreSQL when \`bash scripts/services/postgres.sh start\` ran)
  --scheduling-only    measure only the scheduling overhead and replace its section (and its target
                       rows) in the report file
  --scheduling-repeats N      runs of each scheduling case (default 2)
  --scheduling-fan-slots LIST slot counts for the fan, e.g. 1,4,8,16 (default 8; the chain uses 1)
  --no-ui              skip the web UI (API latency over a seeded history of 1,000 runs on SQLite and
                       PostgreSQL, the pipeline grid drawn in chromium, the bundle's size)
  --ui-only            measure only the web UI and replace its section (and its target rows)
  --no-workers         skip the workers part (no-op tasks through 1, 2 and 4 \`medallion worker\` processes on
                       PostgreSQL; the example pipeline at scale 10 on MinIO through one process, 1 and 2 workers)
  --workers-only       measure only the workers part and replace its section (and its target rows)
  --workers-repeats N  runs of each workers case (default 2)
  --workers-slots LIST slots of each worker process in the no-op runs, e.g. 8,16 (default 8; every worker
                       count runs with each; the targets are judged on the first)
  --no-engines         skip the engine comparison (the example pipeline on DuckDB and on the Spark cluster of
                       scripts/services/spark.sh, at each of --scales; skipped when no Spark server is found)
  --engines-only       measure only the engine comparison and replace its section
  --no-tables          skip the tables part (a table of 1,000 commits opened by \`tables show\`, with checkpoints
                       and without; about a minute)
  --tables-only        measure only the tables part and replace its section (and its target row)
  --no-incremental     skip the incremental runs (a lake of scale --incremental-start, then --incremental-runs
                       runs each adding a contracts file of scale --incremental-step, with incremental silver
                       and with full rebuilds side by side)
  --incremental-only   measure only the incremental runs and replace their section (and target row)
  --incremental-start SCALE   the lake's first run (default 10)
  --incremental-step SCALE    each added contracts file (default 1)
  --incremental-runs N        runs adding a file (default 20)
  --incremental-republished SHARE  republished copies of earlier contracts in each file, as a share of its
                       new contracts (default 0.1)
  --incremental-republished-from previous|any  which contracts they are: the file before's (default, as
                       the generated file's own republications come soon after the first publication) or any
  --no-copy-floor      skip the copy floor (DuckDB alone copying each source file to Parquet, beside each
                       bronze task, at each of --scales)
  --copy-floor-only    measure only the copy floor and replace its section (and target rows)
  --copy-floor-rounds N       rounds of floor, bronze alone and whole run per scale (default 3)`;

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      scales: { type: 'string', default: '1,10' },
      'with-100': { type: 'boolean', default: false },
      out: { type: 'string', default: 'BENCHMARKS.md' },
      'memory-limit': { type: 'string', default: '768MB' },
      work: { type: 'string' },
      'floor-json': { type: 'string', default: 'split' },
      s3: { type: 'boolean', default: false },
      'no-s3': { type: 'boolean', default: false },
      's3-large-mib': { type: 'string', default: '1024' },
      's3-small-files': { type: 'string', default: '10000' },
      'no-scheduling': { type: 'boolean', default: false },
      'scheduling-only': { type: 'boolean', default: false },
      'scheduling-repeats': { type: 'string', default: '2' },
      'no-ui': { type: 'boolean', default: false },
      'ui-only': { type: 'boolean', default: false },
      'scheduling-fan-slots': { type: 'string', default: '8' },
      'no-workers': { type: 'boolean', default: false },
      'workers-only': { type: 'boolean', default: false },
      'workers-repeats': { type: 'string', default: '2' },
      'workers-slots': { type: 'string', default: '8' },
      'no-engines': { type: 'boolean', default: false },
      'engines-only': { type: 'boolean', default: false },
      'no-tables': { type: 'boolean', default: false },
      'tables-only': { type: 'boolean', default: false },
      'no-incremental': { type: 'boolean', default: false },
      'incremental-only': { type: 'boolean', default: false },
      'incremental-start': { type: 'string', default: '10' },
      'incremental-step': { type: 'string', default: '1' },
      'incremental-runs': { type: 'string', default: '20' },
      'incremental-republished': { type: 'string', default: '0.1' },
      'incremental-republished-from': { type: 'string', default: 'previous' },
      'no-copy-floor': { type: 'boolean', default: false },
      'copy-floor-only': { type: 'boolean', default: false },
      'copy-floor-rounds': { type: 'string', default: '3' },
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
  if (values.s3 && values['no-s3']) throw new Error('--s3 and --no-s3 contradict each other');
  if (values['scheduling-only'] && values['no-scheduling'])
    throw new Error('--scheduling-only and --no-scheduling contradict each other');
  if (values['ui-only'] && values['no-ui']) throw new Error('--ui-only and --no-ui contradict each other');
  if (values['workers-only'] && values['no-workers'])
    throw new Error('--workers-only and --no-workers contradict each other');
  if (values['engines-only'] && values['no-engines'])
    throw new Error('--engines-only and --no-engines contradict each other');
  for (const part of ['tables', 'incremental', 'copy-floor'] as const) {
    if (values[`${part}-only`] && values[`no-${part}`])
      throw new Error(`--${part}-only and --no-${part} contradict each other`);
  }
  const only = (
    [
      'scheduling-only',
      'ui-only',
      'workers-only',
      'engines-only',
      'tables-only',
      'incremental-only',
      'copy-floor-only',
    ] as const
  ).filter((flag) => values[flag]);
  if (only.length > 1) throw new Error(`--${only.join(' and --')} contradict each other`);
  const positiveInteger = (flag: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`${flag} takes a positive integer, got '${text}'`);
    return value;
  };
  const positiveNumber = (flag: string, text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`${flag} takes a positive number, got '${text}'`);
    return value;
  };
  const share = Number(values['incremental-republished']);
  if (!Number.isFinite(share) || share < 0 || share > 1)
    throw new Error(
      `--incremental-republished takes a share from 0 to 1, got '${values['incremental-republished']}'`,
    );
  const republishedFrom = values['incremental-republished-from'];
  if (republishedFrom !== 'previous' && republishedFrom !== 'any')
    throw new Error(`--incremental-republished-from takes previous or any, got '${republishedFrom}'`);
  return {
    scales: [...new Set(scales)].sort((a, b) => a - b),
    out: values.out,
    memoryLimit: values['memory-limit'],
    work: values.work,
    floorJson,
    s3: values.s3 ? 'on' : values['no-s3'] ? 'off' : 'auto',
    s3LargeMiB: positiveInteger('--s3-large-mib', values['s3-large-mib']),
    s3SmallFiles: positiveInteger('--s3-small-files', values['s3-small-files']),
    scheduling: values['scheduling-only'] ? 'only' : values['no-scheduling'] ? 'off' : 'on',
    ui: values['ui-only'] ? 'only' : values['no-ui'] ? 'off' : 'on',
    workers: values['workers-only'] ? 'only' : values['no-workers'] ? 'off' : 'on',
    engines: values['engines-only'] ? 'only' : values['no-engines'] ? 'off' : 'on',
    tables: values['tables-only'] ? 'only' : values['no-tables'] ? 'off' : 'on',
    incremental: values['incremental-only'] ? 'only' : values['no-incremental'] ? 'off' : 'on',
    incrementalStartScale: positiveNumber('--incremental-start', values['incremental-start']),
    incrementalStepScale: positiveNumber('--incremental-step', values['incremental-step']),
    incrementalRuns: positiveInteger('--incremental-runs', values['incremental-runs']),
    incrementalRepublished: share,
    incrementalRepublishedFrom: republishedFrom,
    copyFloor: values['copy-floor-only'] ? 'only' : values['no-copy-floor'] ? 'off' : 'on',
    copyFloorRounds: positiveInteger('--copy-floor-rounds', values['copy-floor-rounds']),
    workersRepeats: positiveInteger('--workers-repeats', values['workers-repeats']),
    workersSlots: [
      ...new Set(
        values['workers-slots'].split(',').map((text) => positiveInteger('--workers-slots', text.trim())),
      ),
    ],
    schedulingRepeats: positiveInteger('--scheduling-repeats', values['scheduling-repeats']),
    schedulingFanSlots: [
      ...new Set(
        values['scheduling-fan-slots']
          .split(',')
          .map((text) => positiveInteger('--scheduling-fan-slots', text.trim())),
      ),
    ],
    argv,
  };
}
