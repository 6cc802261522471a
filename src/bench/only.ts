/** The `--X-only` runs of `npm run bench`: one part measured, its section of the report replaced. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { copyFloorProblems, spliceCopyFloor } from './copy-floor-report.js';
import { renderEngines, spliceEngines } from './engines-report.js';
import { incrementalProblems, spliceIncremental } from './incremental-report.js';
import type { BenchOptions } from './options.js';
import {
  log,
  runCopyFloor,
  runEngines,
  runIncremental,
  runWorkers,
  schedulingOptions,
  withWorkers,
} from './parts.js';
import { benchScheduling } from './scheduling.js';
import {
  renderScheduling,
  schedulingProblems,
  schedulingTargetRows,
  spliceScheduling,
} from './scheduling-report.js';
import { benchTableOpen } from './table-open.js';
import { spliceTableOpen, tableOpenProblems } from './table-open-report.js';
import { benchUi } from './ui-latency.js';
import { spliceUi, uiProblems } from './ui-report.js';
import { workersProblems } from './workers-report.js';

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

/** One part measured alone: how, how its result goes into the report, and whether it failed. */
interface Part<Result> {
  label: string;
  measure(work: string): Promise<Result>;
  splice(markdown: string, result: Result): string;
  failed(result: Result): boolean;
}

/**
 * An `--X-only` run: measures one part (in a work directory of its own unless --work names one) and replaces its
 * section, target rows and caution lines in the report file; exit code 1 when the part failed.
 */
async function onlyPart<Result>(options: BenchOptions, part: Part<Result>): Promise<number> {
  const work = options.work
    ? path.resolve(options.work)
    : await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-'));
  await mkdir(work, { recursive: true });
  let result: Result;
  try {
    result = await part.measure(work);
  } finally {
    if (!options.work) await rm(work, { recursive: true, force: true });
  }
  const existing = await readFile(options.out, 'utf8').catch(() => '# Benchmarks\n\n## Targets\n');
  await writeFile(options.out, part.splice(existing, result));
  log(`updated the ${part.label} section of ${path.resolve(options.out)}`);
  return part.failed(result) ? 1 : 0;
}

/** The `--X-only` runs, by option; undefined when the whole benchmark is asked for. */
export function onlyRun(options: BenchOptions, command: string, date: Date): Promise<number> | undefined {
  const logicalDate = date.toISOString().slice(0, 10);
  const at = date.toISOString();
  if (options.scheduling === 'only') return schedulingOnly(options, command, date);
  if (options.ui === 'only') return uiOnly(options, command, date);
  const parts = {
    tables: () =>
      onlyPart(options, {
        label: 'tables',
        measure: () => benchTableOpen(log),
        splice: (markdown, report) => spliceTableOpen(markdown, report, command, at),
        failed: (report) => tableOpenProblems(report).length > 0,
      }),
    workers: () =>
      onlyPart(options, {
        label: 'workers',
        measure: (work) => runWorkers(options, work, logicalDate),
        splice: (markdown, report) => withWorkers(markdown, report, command, date),
        failed: (report) => workersProblems(report).length > 0,
      }),
    engines: () =>
      onlyPart(options, {
        label: 'engines',
        measure: (work) => runEngines(options, work, logicalDate),
        splice: (markdown, report) => spliceEngines(markdown, renderEngines(report, command, at)),
        failed: (report) => 'skipped' in report,
      }),
    incremental: () =>
      onlyPart(options, {
        label: 'incremental runs',
        measure: (work) => runIncremental(options, work, logicalDate),
        splice: (markdown, report) => spliceIncremental(markdown, report, command, at),
        failed: (report) => incrementalProblems(report).length > 0,
      }),
    copyFloor: () =>
      onlyPart(options, {
        label: 'copy floor',
        measure: (work) => runCopyFloor(options, work, logicalDate),
        splice: (markdown, report) => spliceCopyFloor(markdown, report, command, at),
        failed: (report) => copyFloorProblems(report).length > 0,
      }),
  };
  const only = (Object.keys(parts) as (keyof typeof parts)[]).find((part) => options[part] === 'only');
  return only && parts[only]();
}
