/** What one benchmark run measures, and how a measuring child process is run. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../runner/run-summary.js';
import type { Headline } from './headline.js';
import type { SpanCpu } from './s3-server.js';
import type { FloorResult, JsonReadMode } from './raw-duckdb-floor.js';

/** The JSON line dist/bench/run-once.js prints. */
export interface MedallionChildOutput {
  summary: RunSummary;
  /** Peak resident set size of the child, in KB (getrusage ru_maxrss). */
  maxRssKb: number;
  /** Milliseconds from the child's start to its output, module loading included. */
  processMs: number;
  /** CPU time (user + system, every thread) the child used, in ms. */
  cpuMs?: number;
  /** Time in each kind of store call during the run (see timed-store.ts). */
  operations?: OperationTiming[];
}

/** Calls of one kind of store operation during an ingest (e.g. `source.localPath`). */
export interface OperationTiming {
  name: string;
  calls: number;
  /** Sum of the calls' durations; more than the wall time when calls overlap. */
  busyMs: number;
  /** When the first call started and the last one ended, in ms from the start of ingest. */
  firstStartMs: number;
  lastEndMs: number;
}

/** The JSON line dist/bench/run-ingest.js prints. */
export interface IngestChildOutput {
  landed: number;
  skipped: number;
  unmatched: number;
  /** Bytes of the landed files. */
  bytes: number;
  /** The `ingest(context)` call alone: listing, downloads, checksums, landing copies, manifest commit. */
  ingestMs: number;
  operations: OperationTiming[];
  maxRssKb: number;
  /** CPU time (user + system) the child used during ingest, in ms. */
  cpuMs: number;
  /** The same over the child's whole life (start-up, engine, buckets). */
  processCpuMs: number;
  processMs: number;
}

/** The JSON line dist/bench/run-floor.js prints. */
export interface FloorChildOutput {
  floor: FloorResult;
  maxRssKb: number;
  processMs: number;
}

export interface InputFile {
  name: string;
  bytes: number;
  records: number;
}

export interface MedallionMeasure {
  status: RunSummary['status'];
  error?: string;
  /** runPipeline's own duration (summary.durationMs): engine start to summary written. */
  totalMs: number;
  /** Spawn to exit of the child process, as the parent saw it (Node start and module loading included). */
  processWallMs: number;
  maxRssKb: number;
  /** CPU time of the child process, ms (absent in reports of older runs). */
  cpuMs?: number;
  operations?: OperationTiming[];
  tasks: { id: string; status: string; durationMs: number }[];
  /** Rows appended to the bronze tables. */
  bronzeRows: number;
  rowsPerSecond: number;
  tables: Record<string, number>;
  headline: Headline;
}

export interface FloorMeasure {
  totalMs: number;
  processWallMs: number;
  maxRssKb: number;
  jsonMode: JsonReadMode;
  steps: { id: string; durationMs: number }[];
  tables: Record<string, number>;
  headline: Headline;
}

export interface ScaleResult {
  scale: number;
  input: InputFile[];
  generateMs: number;
  medallion: MedallionMeasure | { error: string };
  floor: FloorMeasure | { error: string; jsonMode: JsonReadMode };
}

/** A plain single-stream copy through the client: one GetObject to a local file, one PutObject of it. */
export interface BaselineMeasure extends SpanCpu {
  bytes: number;
  getMs: number;
  putMs: number;
  /** CPU time of the benchmark process during the copy, ms. */
  clientCpuMs: number;
}

/** Server and machine CPU (SpanCpu) are counted while the child ran. */
export interface IngestMeasure extends IngestChildOutput, SpanCpu {
  /** Spawn to exit of the child process. */
  processWallMs: number;
}

export type Failed = { error: string };

export interface LargeFileResult {
  bytes: number;
  /** Writing the file locally and uploading it to the source bucket (neither timed in the figures). */
  generateMs: number;
  uploadMs: number;
  /** SHA-256 of the local file, for scale: the checksum ingest computes on every byte. */
  sha256Ms: number;
  baseline: BaselineMeasure | Failed;
  medallion: IngestMeasure | Failed;
}

export interface SmallFilesResult {
  files: number;
  bytes: number;
  /** Putting them in the source bucket (in parallel; not part of the figures). */
  uploadMs: number;
  medallion: IngestMeasure | Failed;
}

export interface S3PipelineResult {
  scale: number;
  input: InputFile[];
  /** Putting the sample data in the source bucket (not timed in the figures). */
  uploadMs: number;
  local: MedallionMeasure | Failed;
  s3: MedallionMeasure | Failed;
  /** Server and machine CPU while each run's child process ran. */
  localCpu?: SpanCpu;
  s3Cpu?: SpanCpu;
}

export interface S3Result {
  endpoint: string;
  /** Where the server's settings were found. */
  foundIn: string;
  serverVersion?: string;
  /** medallion's S3 transfer settings in effect (part size, concurrency). */
  transferSettings?: string;
  large: LargeFileResult | Failed;
  small: SmallFilesResult | Failed;
  pipeline: S3PipelineResult | Failed;
}

/** A part that could not be measured: `{ error }` and nothing else (a failed pipeline run still has its times). */
export function failed<T extends object>(value: T | Failed): value is Failed {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'error';
}

export function medallionMeasure(output: MedallionChildOutput, processWallMs: number): MedallionMeasure {
  const { summary } = output;
  const bronzeRows = summary.tables
    .filter((table) => table.layer === 'bronze')
    .reduce((sum, table) => sum + table.rowsWritten, 0);
  return {
    status: summary.status,
    ...(summary.error ? { error: summary.error } : {}),
    totalMs: summary.durationMs,
    processWallMs,
    maxRssKb: output.maxRssKb,
    ...(output.cpuMs !== undefined ? { cpuMs: output.cpuMs } : {}),
    ...(output.operations ? { operations: output.operations } : {}),
    tasks: summary.tasks.map((task) => ({ id: task.id, status: task.status, durationMs: task.durationMs })),
    bronzeRows,
    rowsPerSecond: summary.durationMs > 0 ? bronzeRows / (summary.durationMs / 1000) : 0,
    tables: Object.fromEntries(summary.tables.map((table) => [`${table.layer}.${table.table}`, table.rows])),
    headline: summary.headline,
  };
}

export function floorMeasure(output: FloorChildOutput, processWallMs: number): FloorMeasure {
  const { floor } = output;
  return {
    totalMs: floor.durationMs,
    processWallMs,
    maxRssKb: output.maxRssKb,
    jsonMode: floor.jsonMode,
    steps: floor.steps,
    tables: floor.rows,
    headline: floor.headline,
  };
}

/** Milliseconds `body` takes, with its result. */
export async function time<T>(body: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await body();
  return { result, ms: Math.round(performance.now() - started) };
}

/**
 * Runs `node dist/bench/<script> args…` with stderr passed through and returns the JSON object
 * of the last line it printed on stdout, with the wall time the parent saw. `env` is added to
 * this process's environment.
 */
export async function runChild<T>(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ output: T; wallMs: number }> {
  const entry = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const started = performance.now();
  const { code, signal, stdout } = await new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
  }>((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (exitCode, exitSignal) =>
      resolve({ code: exitCode, signal: exitSignal, stdout: Buffer.concat(chunks).toString('utf8') }),
    );
  });
  const wallMs = Math.round(performance.now() - started);
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{')) {
    throw new Error(
      `${script} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${last ? `: ${last.slice(0, 300)}` : ''}`,
    );
  }
  return { output: JSON.parse(last) as T, wallMs };
}
