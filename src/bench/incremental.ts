/**
 * Incremental runs: a lake that starts at one scale (a first run over generated data), then successive runs each
 * adding a new contracts file (new contracts and republished copies of earlier ones, contract-batch.ts), once with
 * incremental silver and once with full rebuilds (`fullRefresh`) on a lake of its own. Every run is a child process
 * (run-once.js) keeping the lake's run history in a SQLite file, as `medallion run` does, so unchanged tasks skip.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeContractBatch, type ContractBatch } from '../demo-data/contract-batch.js';
import { CONTRACTS_PER_SCALE } from '../demo-data/contracts.js';
import { generateDemoData } from '../demo-data/generate.js';
import { parseStats } from '../table/delta-protocol.js';
import { localLake, LakeLayout } from '../table/lake-layout.js';
import { runChild, type InputFile, type MedallionChildOutput } from './measure.js';

export type RefreshMode = 'incremental' | 'full';

export interface IncrementalRun {
  /** 0: the first run, over the starting data; then one per added file. */
  run: number;
  status: string;
  error?: string;
  /** Spawn to exit of the child process. */
  processWallMs: number;
  /** runPipeline's own duration. */
  totalMs: number;
  /** Task durations by task id (skipped tasks apart). */
  tasks: Record<string, number>;
  /** silver.marches_publics after the run: rows, and data files in its current version. */
  silverRows: number;
  silverFiles: number;
  /** Rows the run wrote to it (a merge rewrites the files holding replaced keys), and files it removed. */
  silverRowsWritten: number;
  silverFilesRemoved: number;
  /** Its accounting: records refined this run, and earlier winners a new record replaced. */
  recordsIn: number;
  replaced: number;
}

export interface IncrementalReport {
  startScale: number;
  stepScale: number;
  republishedShare: number;
  republishedFrom: 'previous' | 'any';
  memoryLimit: string;
  input: InputFile[];
  batches: Omit<ContractBatch, 'path'>[];
  runs: Record<RefreshMode, IncrementalRun[]>;
  loadAverage: { before: number; after: number };
}

export interface IncrementalOptions {
  startScale: number;
  stepScale: number;
  runs: number;
  republishedShare: number;
  republishedFrom: 'previous' | 'any';
  work: string;
  memoryLimit: string;
  logicalDate: string;
  log: (message: string) => void;
}

const SILVER = { layer: 'silver', table: 'marches_publics' } as const;

export async function benchIncremental(options: IncrementalOptions): Promise<IncrementalReport> {
  const { log } = options;
  const before = os.loadavg()[0] ?? 0;
  const dir = path.join(options.work, 'incremental');
  await rm(dir, { recursive: true, force: true });
  log(`incremental: generating scale-${options.startScale} sample data (seed 42)`);
  const first = await generateDemoData({
    scale: options.startScale,
    seed: 42,
    outDir: path.join(dir, 'first'),
  });
  const batches: ContractBatch[] = [];
  await mkdir(path.join(dir, 'batches'), { recursive: true });
  for (let file = 0; file < options.runs; file++) {
    batches.push(
      await writeContractBatch({
        dataset: first.continuation,
        contractsPerFile: Math.max(1, Math.round(CONTRACTS_PER_SCALE * options.stepScale)),
        files: options.runs,
        file,
        republishedShare: options.republishedShare,
        republishedFrom: options.republishedFrom,
        path: path.join(
          dir,
          'batches',
          `aws-marchespublics-annee-2022-batch${String(file + 1).padStart(3, '0')}.json`,
        ),
      }),
    );
  }
  log(`incremental: ${batches.length} contract file(s) of ${batches[0]?.records ?? 0} records written`);
  const runs: Record<RefreshMode, IncrementalRun[]> = { incremental: [], full: [] };
  for (let run = 0; run <= options.runs; run++) {
    const added = run === 0 ? first.files.map((file) => file.path) : [batches[run - 1]!.path];
    // Alternated, so that a slower stretch of a shared machine does not fall on one mode only.
    const order: RefreshMode[] = run % 2 === 0 ? ['incremental', 'full'] : ['full', 'incremental'];
    for (const mode of order) {
      const source = path.join(dir, mode, 'source');
      await mkdir(source, { recursive: true });
      for (const file of added) await copyFile(file, path.join(source, path.basename(file)));
      const measured = await measureRun(path.join(dir, mode), run, mode, options);
      runs[mode].push(measured);
      log(
        `incremental: run ${run} (${mode}) ${measured.status} in ${(measured.processWallMs / 1000).toFixed(2)} s, ` +
          `silver.marches_publics ${((measured.tasks['silver.marches_publics'] ?? 0) / 1000).toFixed(2)} s ` +
          `(${measured.recordsIn} records in, ${measured.replaced} replaced; ${measured.silverRows} rows in ${measured.silverFiles} files)`,
      );
    }
  }
  await rm(dir, { recursive: true, force: true });
  return {
    startScale: options.startScale,
    stepScale: options.stepScale,
    republishedShare: options.republishedShare,
    republishedFrom: options.republishedFrom,
    memoryLimit: options.memoryLimit,
    input: first.files.map(({ name, bytes, records }) => ({ name, bytes, records })),
    batches: batches.map(({ path: _path, ...batch }) => batch),
    runs,
    loadAverage: { before, after: os.loadavg()[0] ?? 0 },
  };
}

async function measureRun(
  dir: string,
  run: number,
  mode: RefreshMode,
  options: IncrementalOptions,
): Promise<IncrementalRun> {
  const lake = path.join(dir, 'lake');
  const silverTable = new LakeLayout(localLake(lake)).table(SILVER);
  const before = (await silverTable.snapshot())?.version ?? -1;
  const { output, wallMs } = await runChild<MedallionChildOutput>('run-once.js', [
    '--source',
    path.join(dir, 'source'),
    '--lake',
    lake,
    '--db',
    `sqlite:${path.join(dir, 'metadata.db')}`,
    '--scratch',
    path.join(dir, 'scratch'),
    '--memory-limit',
    options.memoryLimit,
    '--logical-date',
    options.logicalDate,
    ...(mode === 'full' ? ['--full-refresh'] : []),
  ]);
  const { summary } = output;
  const silver = summary.tables.find((table) => `${table.layer}.${table.table}` === 'silver.marches_publics');
  const snapshot = await silverTable.snapshot();
  const written = await silverTable.commits(before + 1);
  const adds = written.flatMap((commit) =>
    commit.actions.flatMap((action) => ('add' in action ? [action.add] : [])),
  );
  return {
    run,
    status: summary.status,
    ...(summary.error && { error: summary.error }),
    processWallMs: wallMs,
    totalMs: summary.durationMs,
    tasks: Object.fromEntries(
      summary.tasks.filter((task) => task.status !== 'skipped').map((task) => [task.id, task.durationMs]),
    ),
    silverRows: silver?.rows ?? 0,
    silverFiles: snapshot?.files.length ?? 0,
    silverRowsWritten: adds.reduce((sum, add) => sum + (parseStats(add)?.numRecords ?? 0), 0),
    silverFilesRemoved: written.reduce(
      (sum, commit) => sum + commit.actions.filter((action) => 'remove' in action).length,
      0,
    ),
    recordsIn: silver?.accounting?.rowsIn ?? 0,
    replaced: silver?.accounting?.replaced ?? 0,
  };
}
