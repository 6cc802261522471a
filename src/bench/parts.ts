/**
 * The parts of `npm run bench` after the scales (main.ts): each run with the options given, as the whole benchmark
 * and its `--X-only` runs (only.ts) both need them.
 */
import path from 'node:path';
import { benchCopyFloor, type CopyFloorReport } from './copy-floor-bench.js';
import { benchEngines, type EnginesReport } from './engines.js';
import { benchIncremental, type IncrementalReport } from './incremental.js';
import type { ScaleResult } from './measure.js';
import type { BenchOptions } from './options.js';
import type { SchedulingOptions } from './scheduling.js';
import { spliceCautions } from './splice.js';
import { testSparkServer } from '../testing/spark.js';
import { benchWorkers, type WorkersReport } from './workers.js';
import { renderWorkers, spliceWorkers, workersProblems, workersTargetRows } from './workers-report.js';

/** The scale of the pipeline run on MinIO beside local disk (and through workers). */
export const S3_PIPELINE_SCALE = 10;

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

export function schedulingOptions(options: BenchOptions): SchedulingOptions {
  return { repeats: options.schedulingRepeats, slots: { fan: options.schedulingFanSlots }, log };
}

/** The workers part, with the scale-10 sample data when the run generated it. */
export function runWorkers(
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
export function withWorkers(markdown: string, report: WorkersReport, command: string, date: Date): string {
  const section = renderWorkers(report, command, date.toISOString());
  const spliced = spliceWorkers(markdown, section, workersTargetRows(report));
  return spliceCautions(spliced, 'workers', workersProblems(report));
}

/** The engine comparison at the run's scales, when a Spark server is found. */
export function runEngines(options: BenchOptions, work: string, logicalDate: string): Promise<EnginesReport> {
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

/** The incremental runs with the options' scales and counts. */
export function runIncremental(
  options: BenchOptions,
  work: string,
  logicalDate: string,
): Promise<IncrementalReport> {
  return benchIncremental({
    startScale: options.incrementalStartScale,
    stepScale: options.incrementalStepScale,
    runs: options.incrementalRuns,
    republishedShare: options.incrementalRepublished,
    republishedFrom: options.incrementalRepublishedFrom,
    work,
    memoryLimit: options.memoryLimit,
    logicalDate,
    log,
  });
}

/** The copy floor at the run's scales, on the sample data the run generated when it did. */
export function runCopyFloor(
  options: BenchOptions,
  work: string,
  logicalDate: string,
  results: ScaleResult[] = [],
): Promise<CopyFloorReport> {
  return benchCopyFloor({
    scales: options.scales,
    rounds: options.copyFloorRounds,
    work,
    memoryLimit: options.memoryLimit,
    logicalDate,
    samples: new Map(
      results.map((result) => [
        result.scale,
        { dir: path.join(work, `scale-${result.scale}`, 'source'), input: result.input },
      ]),
    ),
    log,
  });
}
