/**
 * A table of 1,000 commits opened as `medallion tables show` opens it (a snapshot of its latest version, its schema
 * and first rows), with the checkpoints medallion writes every 10 commits and with a log of commits alone. Each
 * opening runs in a fresh process (`run-table-open.ts`), so that no log file is in the process's cache: the time
 * inside it, and the wall time of the real `medallion tables show` command beside it.
 */
import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { StagedFile } from '../table/delta-table.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { LOG_DIR } from '../table/delta-protocol.js';
import { runChild } from './measure.js';

export const TABLE_COMMITS = 1_000;
/** The target of the issue: `tables show` on a 1,000-commit table, with checkpoints. */
export const TABLE_OPEN_TARGET_MS = 200;
/** Live files of the table: each commit after the first ones rewrites one, as a merge by key does. */
const LIVE_FILES = 20;
const OPENINGS = 7;
const CLI = path.resolve('dist/cli/main.js');

export interface OpenedLog {
  log: 'checkpoints' | 'commits only';
  table: string;
  /** Log files a reader lists. */
  logFiles: number;
  /** Each fresh process's time from opening the table to its first rows, ms (sorted). */
  showMs: number[];
  /** The CPU time the process spent on it meanwhile, its DuckDB threads included, ms (sorted). */
  cpuMs: number[];
  /** The same again in that process, its log files read already. */
  warmMs: number[];
  /** `medallion tables show … --json`, spawn to exit, ms (sorted). */
  commandMs: number[];
}

export type TableOpenReport =
  | {
      commits: number;
      logs: OpenedLog[];
      buildMs: number;
      /** The machine's load average over the last minute when the openings ended (it may be shared). */
      loadAverage: number;
    }
  | { skipped: string };

export interface TableOpenChildOutput {
  showMs: number;
  cpuMs: number;
  warmMs: number;
  version: number;
  rows: number;
}

/** The table a merge by key writes over many runs: LIVE_FILES files, one replaced per commit. */
async function buildTable(lakeDir: string, scratch: string): Promise<void> {
  const engine = await DuckDbEngine.create({ scratchDir: scratch });
  try {
    const table = new LakeLayout(localLake(lakeDir)).table({ layer: 'gold', table: 'history' });
    const staged = await engine.stage("(SELECT i AS id, concat('row ', i) AS label FROM range(50) t(i))", []);
    const [template] = staged.files;
    if (!template) throw new Error('staging the template file gave no file');
    const files: string[] = [];
    for (let version = 0; version < TABLE_COMMITS; version += 1) {
      const file: StagedFile = {
        ...template,
        localPath: path.join(scratch, `part-${version}.parquet`),
        relativePath: `part-${String(version).padStart(5, '0')}.parquet`,
      };
      await copyFile(template.localPath, file.localPath);
      const replaced = files.length >= LIVE_FILES ? files.shift() : undefined;
      await table.commit({
        mode: replaced ? 'rewrite' : 'append',
        schema: staged.schema,
        partitionColumns: [],
        files: [file],
        removes: replaced ? [replaced] : [],
        readVersion: version - 1,
        ...(replaced && { operation: 'MERGE' }),
      });
      files.push(file.relativePath);
    }
  } finally {
    engine.close();
  }
}

/** A copy of the table whose log holds the commits alone: no checkpoint, no `_last_checkpoint`. */
async function withoutCheckpoints(lakeDir: string): Promise<void> {
  const [from, to] = ['history', 'history_commits_only'].map((name) => path.join(lakeDir, 'gold', name));
  await cp(from!, to!, { recursive: true });
  const log = path.join(to!, LOG_DIR);
  for (const name of await readdir(log)) {
    if (name.includes('checkpoint')) await rm(path.join(log, name));
  }
}

export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
}

async function open(lakeDir: string, log: OpenedLog['log'], table: string): Promise<OpenedLog> {
  const opened: OpenedLog = { log, table, logFiles: 0, showMs: [], cpuMs: [], warmMs: [], commandMs: [] };
  opened.logFiles = (await readdir(path.join(lakeDir, ...table.split('.'), LOG_DIR))).length;
  const args = ['tables', 'show', table, '--lake', lakeDir, '--json'];
  for (let round = 0; round < OPENINGS; round += 1) {
    const { output } = await runChild<TableOpenChildOutput>('run-table-open.js', [
      '--lake',
      lakeDir,
      '--table',
      table,
    ]);
    opened.showMs.push(output.showMs);
    opened.cpuMs.push(output.cpuMs);
    opened.warmMs.push(output.warmMs);
    const started = performance.now();
    await promisify(execFile)(process.execPath, [CLI, ...args], { maxBuffer: 16 << 20 });
    opened.commandMs.push(performance.now() - started);
  }
  for (const times of [opened.showMs, opened.cpuMs, opened.warmMs, opened.commandMs])
    times.sort((a, b) => a - b);
  return opened;
}

export async function benchTableOpen(log: (message: string) => void): Promise<TableOpenReport> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-tables-'));
  try {
    const lakeDir = path.join(dir, 'lake');
    const scratch = path.join(dir, 'scratch');
    await mkdir(scratch, { recursive: true });
    log(`tables: committing ${TABLE_COMMITS} versions of gold.history`);
    const started = performance.now();
    await buildTable(lakeDir, scratch);
    const buildMs = performance.now() - started;
    await withoutCheckpoints(lakeDir);
    const logs = [
      await open(lakeDir, 'checkpoints', 'gold.history'),
      await open(lakeDir, 'commits only', 'gold.history_commits_only'),
    ];
    for (const opened of logs) {
      log(
        `tables: ${opened.log}: tables show ${median(opened.showMs).toFixed(0)} ms in process (CPU ${median(opened.cpuMs).toFixed(0)} ms; warm ${median(opened.warmMs).toFixed(0)} ms), the command ${median(opened.commandMs).toFixed(0)} ms`,
      );
    }
    return { commits: TABLE_COMMITS, logs, buildMs, loadAverage: os.loadavg()[0] ?? 0 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
