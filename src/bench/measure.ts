/** What one benchmark run measures, and how a measuring child process is run. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../runner/run-summary.js';
import type { Headline } from './headline.js';
import type { FloorResult, JsonReadMode } from './raw-duckdb-floor.js';

/** The JSON line dist/bench/run-once.js prints. */
export interface MedallionChildOutput {
  summary: RunSummary;
  /** Peak resident set size of the child, in KB (getrusage ru_maxrss). */
  maxRssKb: number;
  /** Milliseconds from the child's start to its output, module loading included. */
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
 * of the last line it printed on stdout, with the wall time the parent saw.
 */
export async function runChild<T>(script: string, args: string[]): Promise<{ output: T; wallMs: number }> {
  const entry = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const started = performance.now();
  const { code, signal, stdout } = await new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
  }>((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
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
