/**
 * How fast the `medallion` command starts: `--version`, and `runs` on a SQLite database (the commands people type
 * most), each started as a real process many times; the median and the worst against the targets.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const BIN = path.resolve('dist/cli/main.js');
const RUNS = 15;

/** Wall time of each command, in ms, from spawning node to its exit. */
export const STARTUP_TARGETS = { version: 300, runs: 500 } as const;

export interface StartupMeasure {
  command: string;
  target: keyof typeof STARTUP_TARGETS;
  medianMs: number;
  worstMs: number;
  runs: number;
}

export type StartupReport = StartupMeasure[] | { skipped: string };

function timed(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`medallion ${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  }
  return ms;
}

function measure(command: string, target: StartupMeasure['target'], args: string[]): StartupMeasure {
  timed(args); // the first start fills the OS file cache: not what a person typing the command waits for
  const times = Array.from({ length: RUNS }, () => timed(args)).sort((a, b) => a - b);
  return {
    command,
    target,
    medianMs: times[Math.floor(times.length / 2)] ?? 0,
    worstMs: times.at(-1) ?? 0,
    runs: times.length,
  };
}

export async function benchStartup(log: (message: string) => void): Promise<StartupMeasure[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-bench-startup-'));
  try {
    const db = `sqlite:${path.join(dir, 'metadata.db')}`;
    const results = [
      measure('medallion --version', 'version', ['--version']),
      measure('medallion runs --db sqlite:…', 'runs', ['runs', '--db', db]),
    ];
    for (const result of results) {
      log(
        `startup: ${result.command} median ${result.medianMs.toFixed(0)} ms, worst ${result.worstMs.toFixed(0)} ms`,
      );
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function startupProblems(report: StartupReport | undefined): string[] {
  if (!report || 'skipped' in report) return [];
  return report
    .filter((result) => result.medianMs > STARTUP_TARGETS[result.target])
    .map(
      (result) =>
        `${result.command} starts in ${result.medianMs.toFixed(0)} ms (median), over ${STARTUP_TARGETS[result.target]} ms`,
    );
}

export function startupTargetRows(report: StartupReport | undefined): string[][] {
  if (!report) return [];
  if ('skipped' in report) return [['Startup of the command', report.skipped, '—']];
  return report.map((result) => [
    `\`${result.command}\` starts in ≤ ${STARTUP_TARGETS[result.target]} ms`,
    `${result.medianMs.toFixed(0)} ms median (worst ${result.worstMs.toFixed(0)} ms of ${result.runs})`,
    result.medianMs <= STARTUP_TARGETS[result.target] ? '✅' : '❌',
  ]);
}
