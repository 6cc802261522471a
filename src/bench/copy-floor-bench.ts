/**
 * The copy floor beside the bronze tasks, per scale: in each round, the floor (run-floor.js --copy), then ingest and
 * the bronze tasks alone, one task at a time as the floor copies one file at a time (run-once.js --bronze-only
 * --slots 1), then a whole run (two tasks at a time, as `medallion run` does), each in a child process on a fresh
 * lake over the same sample data.
 */
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateDemoData } from '../demo-data/generate.js';
import type { CopyFloorStep } from './copy-floor.js';
import { runChild, type InputFile, type MedallionChildOutput } from './measure.js';

export interface CopyFloorChildOutput {
  steps: CopyFloorStep[];
  maxRssKb: number;
  processMs: number;
}

type Failed = { error: string };

/** Milliseconds by bronze table. */
export type ByTable = Record<string, number>;

export interface CopyFloorRound {
  floor: ByTable | Failed;
  /** Each bronze task run alone (ingest and bronze only, one task at a time). */
  alone: ByTable | Failed;
  /** The bronze tasks inside a whole run of the pipeline. */
  inRun: ByTable | Failed;
}

export interface CopyFloorScale {
  scale: number;
  input: InputFile[];
  rounds: CopyFloorRound[];
}

export type CopyFloorReport =
  | { skipped: string }
  | { scales: CopyFloorScale[]; memoryLimit: string; loadAverage: { before: number; after: number } };

export interface CopyFloorOptions {
  scales: number[];
  rounds: number;
  work: string;
  memoryLimit: string;
  logicalDate: string;
  /** Sample data already generated (seed 42) by scale, with its files. */
  samples?: Map<number, { dir: string; input: InputFile[] }>;
  log: (message: string) => void;
}

export async function benchCopyFloor(options: CopyFloorOptions): Promise<CopyFloorReport> {
  const before = os.loadavg()[0] ?? 0;
  const scales: CopyFloorScale[] = [];
  for (const scale of options.scales) {
    const dir = path.join(options.work, 'copy-floor', `scale-${scale}`);
    const sample = options.samples?.get(scale) ?? (await generate(scale, path.join(dir, 'source'), options));
    const rounds: CopyFloorRound[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      options.log(`copy floor: scale ${scale}, round ${round} of ${options.rounds}`);
      rounds.push(await measureRound(sample.dir, path.join(dir, `round-${round}`), options));
    }
    await rm(dir, { recursive: true, force: true });
    scales.push({ scale, input: sample.input, rounds });
  }
  return { scales, memoryLimit: options.memoryLimit, loadAverage: { before, after: os.loadavg()[0] ?? 0 } };
}

async function generate(
  scale: number,
  outDir: string,
  options: CopyFloorOptions,
): Promise<{ dir: string; input: InputFile[] }> {
  options.log(`copy floor: generating scale-${scale} sample data (seed 42)`);
  const { files } = await generateDemoData({ scale, seed: 42, outDir });
  return { dir: outDir, input: files.map(({ name, bytes, records }) => ({ name, bytes, records })) };
}

async function measureRound(source: string, dir: string, options: CopyFloorOptions): Promise<CopyFloorRound> {
  await mkdir(dir, { recursive: true });
  const scratch = path.join(dir, 'scratch');
  const floor = await attempt(async () => {
    const { output } = await runChild<CopyFloorChildOutput>('run-floor.js', [
      '--copy',
      '--source',
      source,
      '--out',
      path.join(dir, 'floor'),
      '--scratch',
      scratch,
      '--memory-limit',
      options.memoryLimit,
    ]);
    return Object.fromEntries(output.steps.map((step) => [step.bronzeTable, step.durationMs]));
  });
  const bronze = (lake: string, extra: string[]) =>
    attempt(async () => {
      const { output } = await runChild<MedallionChildOutput>('run-once.js', [
        '--source',
        source,
        '--lake',
        path.join(dir, lake),
        '--scratch',
        scratch,
        '--memory-limit',
        options.memoryLimit,
        '--logical-date',
        options.logicalDate,
        ...extra,
      ]);
      if (output.summary.status !== 'success') throw new Error(output.summary.error ?? output.summary.status);
      return Object.fromEntries(
        output.summary.tasks
          .filter((task) => task.id.startsWith('bronze.'))
          .map((task) => [task.id.slice('bronze.'.length), task.durationMs]),
      );
    });
  const alone = await bronze('lake-alone', ['--bronze-only', '--slots', '1']);
  const inRun = await bronze('lake-run', []);
  await rm(dir, { recursive: true, force: true });
  for (const [label, measured] of Object.entries({ floor, alone, inRun }))
    options.log(`copy floor: ${label}: ${JSON.stringify(measured)}`);
  return { floor, alone, inRun };
}

async function attempt(body: () => Promise<ByTable>): Promise<ByTable | Failed> {
  try {
    return await body();
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
