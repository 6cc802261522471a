/**
 * `npm run bench`: generates sample data per scale, runs the pipeline and the raw DuckDB floor
 * each in its own child process, then (with a MinIO server, see s3-transfers.ts) the S3 transfers,
 * the scheduling overhead, startup, the web UI and (with PostgreSQL, see workers.ts) worker
 * processes, and writes BENCHMARKS.md. Progress goes to stderr.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { benchScheduling, type SchedulingOptions } from './scheduling.js';
import { benchUi } from './ui-latency.js';
import { spliceUi, uiProblems, type UiReport } from './ui-report.js';
import { benchStartup, startupProblems, type StartupReport } from './startup.js';
import { spliceCautions } from './splice.js';
import { benchWorkers, type WorkersReport } from './workers.js';
import { benchEngines, type EnginesReport } from './engines.js';
import { renderEngines, spliceEngines } from './engines-report.js';
import { benchTableOpen, type TableOpenReport } from './table-open.js';
import { spliceTableOpen, tableOpenProblems } from './table-open-report.js';
import { testSparkServer } from '../testing/spark.js';
import { renderWorkers, spliceWorkers, workersProblems, workersTargetRows } from './workers-report.js';
import {
  renderScheduling,
  schedulingProblems,
  schedulingTargetRows,
  spliceScheduling,
  type SchedulingReport,
} from './scheduling-report.js';

/** The scale of the pipeline run on MinIO beside local disk. */
const S3_PIPELINE_SCALE = 10;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

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

function schedulingOptions(options: BenchOptions): SchedulingOptions {
  return { repeats: options.schedulingRepeats, slots: { fan: options.schedulingFanSlots }, log };
}

/** --scheduling-only: the scheduling overhead alone, its section and target rows replaced in the report. */
async function schedulingOnly(options: BenchOptions, command: string, date: Date): Promise<number> {
  const result = await benchScheduling(schedulingOptions(options));
  const section = renderScheduling(result, command, date.toISOString(), os.cpus().length);
  const existing = await readFile(options.out, 'utf8').catch(() => '# Benchmarks\n');
  await writeFile(options.out, spliceScheduling(existing, section, schedulingTargetRows(result)));
  log(`updated the scheduling section of ${path.resolve(options.out)}`);
  return schedulingProblems(result).length > 0 ? 1 : 0;
}

/** --ui-only: the web UI alone, its section and target rows replaced in the report. */
async function uiOnly(options: BenchOptions, command: string, date: Date): Promise<number> {
  const result = await benchUi(log);
  const existing = await readFile(options.out, 'utf8').catch(() => '# Benchmarks\n');
  await writeFile(options.out, spliceUi(existing, result, command, date.toISOString()));
  log(`updated the web UI section of ${path.resolve(options.out)}`);
  return uiProblems(result).length > 0 ? 1 : 0;
}

/** The workers part, with the scale-10 sample data when the run generated it. */
function runWorkers(
  options: BenchOptions,
  work: string,
  logicalDate: string,
  results: ScaleResult[] = [],
): Promise<WorkersReport> {
  const reused = results.find((result) => result.scale === S3_PIPELINE_SCALE);
  return benchWorkers({
    repeats: options.workersRepeats,
    slots: options.workersSlots,
    work,
    memoryLimit: options.memoryLimit,
    logicalDate,
    sample: reused && { dir: path.join(work, `scale-${S3_PIPELINE_SCALE}`, 'source'), input: reused.input },
    log,
  });
}

/** `markdown` with the workers section, its target rows and its caution lines replaced. */
function withWorkers(markdown: string, report: WorkersReport, command: string, date: Date): string {
  const section = renderWorkers(report, command, date.toISOString());
  const spliced = spliceWorkers(markdown, section, workersTargetRows(report));
  return spliceCautions(spliced, 'workers', workersProblems(report));
}

/** --workers-only: the workers part alone, its section, target rows and caution lines replaced in the report. */
async function workersOnly(options: BenchOptions, command: string, date: Date): Promise<number> {
  const work = options.work
    ? path.resolve(options.work)
    : await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-'));
  await mkdir(work, { recursive: true });
  let result: WorkersReport;
  try {
    result = await runWorkers(options, work, date.toISOString().slice(0, 10));
  } finally {
    if (!options.work) await rm(work, { recursive: true, force: true });
  }
  for (const problem of workersProblems(result)) log(`workers: ❌ ${problem}`);
  const existing = await readFile(options.out, 'utf8').catch(() => '# Benchmarks\n\n## Targets\n');
  await writeFile(options.out, withWorkers(existing, result, command, date));
  log(`updated the workers section of ${path.resolve(options.out)}`);
  return workersProblems(result).length > 0 ? 1 : 0;
}

/** The engine comparison at the run's scales, when a Spark server is found. */
function runEngines(options: BenchOptions, work: string, logicalDate: string): Promise<EnginesReport> {
  const server = testSparkServer();
  return benchEngines({
    remote: 'reason' in server ? undefined : server.remote,
    scales: options.scales,
    work,
    logicalDate,
    memoryLimit: options.memoryLimit,
    log,
  });
}

/** --engines-only: the engine comparison alone, its section replaced in the report. */
async function enginesOnly(options: BenchOptions, command: string, date: Date): Promise<number> {
  const work = options.work
    ? path.resolve(options.work)
    : await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-'));
  let report: EnginesReport;
  try {
    report = await runEngines(options, work, date.toISOString().slice(0, 10));
  } finally {
    if (!options.work) await rm(work, { recursive: true, force: true });
  }
  const existing = await readFile(options.out, 'utf8').catch(() => '# Benchmarks\n');
  await writeFile(options.out, spliceEngines(existing, renderEngines(report, command, date.toISOString())));
  log(`updated the engines section of ${path.resolve(options.out)}`);
  return 'skipped' in report ? 1 : 0;
}

/** --tables-only: the 1,000-commit table alone, its section, target row and caution lines replaced. */
async function tablesOnly(options: BenchOptions, command: string, date: Date): Promise<number> {
  const report = await benchTableOpen(log);
  const existing = await readFile(options.out, 'utf8').catch(() => '# Benchmarks\n\n## Targets\n');
  await writeFile(options.out, spliceTableOpen(existing, report, command, date.toISOString()));
  log(`updated the tables section of ${path.resolve(options.out)}`);
  return tableOpenProblems(report).length > 0 ? 1 : 0;
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
  if (options.scheduling === 'only') return schedulingOnly(options, command, date);
  if (options.ui === 'only') return uiOnly(options, command, date);
  if (options.workers === 'only') return workersOnly(options, command, date);
  if (options.engines === 'only') return enginesOnly(options, command, date);
  if (options.tables === 'only') return tablesOnly(options, command, date);
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
  await writeFile(
    options.out,
    spliceTableOpen(
      spliceEngines(
        withWorkers(report, workers, command, date),
        renderEngines(engines, command, date.toISOString()),
      ),
      tables,
      command,
      date.toISOString(),
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
    tableOpenProblems(tables).length > 0;
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
