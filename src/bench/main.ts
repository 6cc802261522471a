/**
 * `npm run bench`: generates sample data per scale, runs the pipeline and the raw DuckDB floor
 * each in its own child process, then (with a MinIO server, see s3-transfers.ts) the S3 transfers,
 * the scheduling overhead, startup, the web UI, (with PostgreSQL, see workers.ts) worker
 * processes, the engines, the copy floor and the incremental runs, and writes BENCHMARKS.md.
 * Progress goes to stderr.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateDemoData } from '../demo-data/generate.js';
import { machineInfo } from './machine.js';
import {
  floorMeasure,
  medallionMeasure,
  runChild,
  time,
  type FloorChildOutput,
  type MedallionChildOutput,
  type ScaleResult,
} from './measure.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { problems, renderReport, s3Problems, type BenchReport } from './report.js';
import { testS3Server } from '../services/test-s3-server.js';
import { benchS3, s3Unusable } from './s3-transfers.js';
import { benchScheduling } from './scheduling.js';
import { benchUi } from './ui-latency.js';
import { uiProblems, type UiReport } from './ui-report.js';
import { benchStartup, startupProblems, type StartupReport } from './startup.js';
import type { WorkersReport } from './workers.js';
import type { EnginesReport } from './engines.js';
import { renderEngines, spliceEngines } from './engines-report.js';
import { benchTableOpen, type TableOpenReport } from './table-open.js';
import { tableOpenProblems, spliceTableOpen } from './table-open-report.js';
import type { IncrementalReport } from './incremental.js';
import { incrementalProblems, spliceIncremental } from './incremental-report.js';
import type { CopyFloorReport } from './copy-floor-bench.js';
import { copyFloorProblems, spliceCopyFloor } from './copy-floor-report.js';
import { workersProblems } from './workers-report.js';
import { schedulingProblems, type SchedulingReport } from './scheduling-report.js';
import { onlyRun } from './only.js';
import {
  log,
  runCopyFloor,
  runEngines,
  runIncremental,
  runWorkers,
  S3_PIPELINE_SCALE,
  schedulingOptions,
  withWorkers,
} from './parts.js';

async function benchScale(
  scale: number,
  work: string,
  options: BenchOptions,
  logicalDate: string,
): Promise<ScaleResult> {
  const dir = path.join(work, `scale-${scale}`);
  await rm(dir, { recursive: true, force: true });
  const source = path.join(dir, 'source');

  log(`scale ${scale}: generating sample data (seed 42) into ${source}`);
  let lastReport = performance.now();
  const generated = await time(() =>
    generateDemoData({
      scale,
      seed: 42,
      outDir: source,
      onProgress: ({ file, records }) => {
        if (performance.now() - lastReport < 5_000) return;
        lastReport = performance.now();
        log(`scale ${scale}: generating… ${file}: ${records.toLocaleString('en-US')} records`);
      },
    }),
  );
  const input = generated.result.files.map(({ name, bytes, records }) => ({ name, bytes, records }));
  log(
    `scale ${scale}: generated ${input.map((file) => `${file.name} ${(file.bytes / 1e6).toFixed(1)} MB`).join(', ')} in ${(generated.ms / 1000).toFixed(1)} s`,
  );

  log(`scale ${scale}: medallion (runPipeline in a child process)`);
  const medallion = await measureChild(
    `scale ${scale}: medallion`,
    'run-once.js',
    [
      '--source',
      source,
      '--lake',
      path.join(dir, 'lake'),
      '--scratch',
      path.join(dir, 'medallion-scratch'),
      '--memory-limit',
      options.memoryLimit,
      '--logical-date',
      logicalDate,
    ],
    (output: MedallionChildOutput, wallMs) => medallionMeasure(output, wallMs),
    (measure) => measure.status,
  );
  // The lake is not needed any more; at large scales it holds a copy of every source byte.
  await rm(path.join(dir, 'lake'), { recursive: true, force: true });

  const jsonMode = options.floorJson;
  log(`scale ${scale}: raw DuckDB floor (one SQL script in a child process, JSON read: ${jsonMode})`);
  const measured = await measureChild(
    `scale ${scale}: floor`,
    'run-floor.js',
    [
      '--source',
      source,
      '--out',
      path.join(dir, 'floor'),
      '--scratch',
      path.join(dir, 'floor-scratch'),
      '--memory-limit',
      options.memoryLimit,
      '--logical-date',
      logicalDate,
      '--json-mode',
      jsonMode,
    ],
    (output: FloorChildOutput, wallMs) => floorMeasure(output, wallMs),
  );
  const floor: ScaleResult['floor'] = 'error' in measured ? { ...measured, jsonMode } : measured;
  await rm(path.join(dir, 'floor'), { recursive: true, force: true });

  const result: ScaleResult = { scale, input, generateMs: generated.ms, medallion, floor };
  for (const problem of problems(result)) log(`scale ${scale}: ❌ ${problem}`);
  return result;
}

/** Runs a bench child, turns its output into a measure and logs the outcome; a failure becomes `{ error }`. */
async function measureChild<Output, Measure extends { totalMs: number; maxRssKb: number }>(
  label: string,
  script: string,
  args: string[],
  measure: (output: Output, wallMs: number) => Measure,
  outcome: (measure: Measure) => string = () => '',
): Promise<Measure | { error: string }> {
  try {
    const { output, wallMs } = await runChild<Output>(script, args);
    const result = measure(output, wallMs);
    log(
      `${label}${outcome(result) ? ` ${outcome(result)}` : ''} in ${(result.totalMs / 1000).toFixed(2)} s, peak RSS ${Math.round(result.maxRssKb / 1024)} MiB`,
    );
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${label} FAILED: ${message}`);
    return { error: message };
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const parsed = parseOptions(argv);
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = parsed;
  const date = new Date();
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const only = onlyRun(options, command, date);
  if (only) return only;
  const logicalDate = date.toISOString().slice(0, 10);
  let server = options.s3 === 'off' ? { reason: 'skipped (--no-s3)' } : testS3Server();
  if (!('reason' in server)) {
    const unusable = await s3Unusable(server);
    if (unusable) server = { reason: unusable };
  }
  if (options.s3 === 'on' && 'reason' in server) throw new Error(`--s3: ${server.reason}`);
  const work = options.work
    ? path.resolve(options.work)
    : await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-'));
  await mkdir(work, { recursive: true });
  log(`scales ${options.scales.join(', ')}; DuckDB memory limit ${options.memoryLimit}; work dir ${work}`);
  if ('reason' in server) log(`S3 transfers not measured: ${server.reason}`);
  const machine = await machineInfo();
  const results: ScaleResult[] = [];
  let s3: BenchReport['s3'] = 'reason' in server ? { skipped: server.reason } : undefined;
  let scheduling: SchedulingReport = { skipped: 'skipped (--no-scheduling)' };
  let startup: StartupReport = { skipped: 'not measured (the run stopped before)' };
  let engines: EnginesReport = {
    skipped: options.engines === 'off' ? 'skipped (--no-engines)' : 'not measured (the run stopped before)',
  };
  let workers: WorkersReport = {
    skipped: options.workers === 'off' ? 'skipped (--no-workers)' : 'not measured (the run stopped before)',
  };
  let tables: TableOpenReport = {
    skipped: options.tables === 'off' ? 'skipped (--no-tables)' : 'not measured (the run stopped before)',
  };
  let incremental: IncrementalReport | undefined;
  let copyFloor: CopyFloorReport = {
    skipped:
      options.copyFloor === 'off' ? 'skipped (--no-copy-floor)' : 'not measured (the run stopped before)',
  };
  let ui: UiReport = {
    skipped: options.ui === 'off' ? 'skipped (--no-ui)' : 'not measured (the run stopped before)',
  };
  try {
    for (const scale of options.scales) results.push(await benchScale(scale, work, options, logicalDate));
    if (!('reason' in server)) {
      const reused = results.find((result) => result.scale === S3_PIPELINE_SCALE);
      s3 = await benchS3({
        server,
        work,
        largeMiB: options.s3LargeMiB,
        smallFiles: options.s3SmallFiles,
        pipelineScale: S3_PIPELINE_SCALE,
        sample: reused
          ? { dir: path.join(work, `scale-${S3_PIPELINE_SCALE}`, 'source'), input: reused.input }
          : undefined,
        memoryLimit: options.memoryLimit,
        logicalDate,
        log,
      });
      for (const problem of s3Problems(s3)) log(`S3: ❌ ${problem}`);
    }
    if (options.scheduling === 'on') {
      scheduling = await benchScheduling(schedulingOptions(options));
      for (const problem of schedulingProblems(scheduling)) log(`scheduling: ❌ ${problem}`);
    }
    startup = await benchStartup(log);
    if (options.tables === 'on') tables = await benchTableOpen(log);
    if (options.ui === 'on') {
      ui = await benchUi(log);
      for (const problem of uiProblems(ui)) log(`web UI: ❌ ${problem}`);
    }
    if (options.workers === 'on') {
      workers = await runWorkers(options, work, logicalDate, results);
      for (const problem of workersProblems(workers)) log(`workers: ❌ ${problem}`);
    }
    if (options.engines === 'on') engines = await runEngines(options, work, logicalDate);
    if (options.copyFloor === 'on') copyFloor = await runCopyFloor(options, work, logicalDate, results);
    if (options.incremental === 'on') incremental = await runIncremental(options, work, logicalDate);
  } finally {
    if (!options.work) await rm(work, { recursive: true, force: true });
  }
  const report = renderReport({
    command,
    date: date.toISOString(),
    machine,
    memoryLimit: options.memoryLimit,
    logicalDate,
    results,
    ...(s3 ? { s3 } : {}),
    scheduling,
    startup,
    ui,
  });
  const at = date.toISOString();
  const withParts = spliceCopyFloor(
    spliceEngines(withWorkers(report, workers, command, date), renderEngines(engines, command, at)),
    copyFloor,
    command,
    at,
  );
  await writeFile(
    options.out,
    spliceTableOpen(
      incremental ? spliceIncremental(withParts, incremental, command, at) : withParts,
      tables,
      command,
      at,
    ),
  );
  log(`wrote ${path.resolve(options.out)}`);
  const troubled =
    results.some((result) => problems(result).length > 0) ||
    (s3 && s3Problems(s3).length > 0) ||
    schedulingProblems(scheduling).length > 0 ||
    startupProblems(startup).length > 0 ||
    uiProblems(ui).length > 0 ||
    workersProblems(workers).length > 0 ||
    tableOpenProblems(tables).length > 0 ||
    copyFloorProblems(copyFloor).length > 0 ||
    (incremental !== undefined && incrementalProblems(incremental).length > 0);
  return troubled ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 2;
  },
);
