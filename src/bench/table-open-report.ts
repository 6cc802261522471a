/** The tables part of BENCHMARKS.md: a 1,000-commit table opened by `tables show`, with and without checkpoints. */
import { table } from './report.js';
import { spliceCautions, spliceSection } from './splice.js';
import { median, TABLE_OPEN_TARGET_MS, type OpenedLog, type TableOpenReport } from './table-open.js';

export const TABLES_HEADING = '## Tables: a 1,000-commit table opened';

const ms = (value: number) => `${value.toFixed(0)} ms`;
const spread = (values: readonly number[]) =>
  `${ms(median(values))} (${ms(values[0] ?? 0)}–${ms(values.at(-1) ?? 0)})`;

/** The opening the target is about: the log with checkpoints, as medallion writes it. */
function judged(report: TableOpenReport): OpenedLog | undefined {
  return 'logs' in report ? report.logs.find((opened) => opened.log === 'checkpoints') : undefined;
}

export function renderTableOpen(report: TableOpenReport, command: string, date: string): string[] {
  const lines = [TABLES_HEADING, ''];
  if ('skipped' in report) return [...lines, `Not measured: ${report.skipped}.`];
  lines.push(
    `Made with \`${command}\` on ${date}: \`gold.history\`, a table of ${report.commits.toLocaleString('en-US')} commits (20 live files of 50 rows; each commit after the 20th replaces one, as a merge by key does; committed in ${(report.buildMs / 1000).toFixed(1)} s with a checkpoint every 10 commits), and a copy of it whose log has no checkpoint. *In process*: a fresh process opens it as \`medallion tables show\` does — the table at its latest version (log listing, checkpoint, commits after it), its schema, then its first 20 rows through DuckDB (the engine started on the way) — timed from the first call to the rows, no log file read before; *CPU of it*: the process's CPU time meanwhile, DuckDB's threads included; then the same again in that process (*warm*). *The command*: \`medallion tables show gold.history --lake … --json\`, spawn to exit (Node and module start included). Median of ${report.logs[0]?.showMs.length ?? 0} fresh processes, (fastest–slowest); the load average was ${report.loadAverage.toFixed(1)} when they ended.`,
    '',
    table(
      ['Log', 'Log files', 'In process (cold)', 'CPU of it', 'In process (warm)', 'The command'],
      report.logs.map((opened) => [
        opened.log === 'checkpoints' ? 'checkpoint every 10 commits' : 'commits only',
        opened.logFiles.toLocaleString('en-US'),
        spread(opened.showMs),
        spread(opened.cpuMs),
        spread(opened.warmMs),
        spread(opened.commandMs),
      ]),
    ),
  );
  return lines;
}

export function tableOpenTargetRows(report: TableOpenReport): string[][] {
  const target = `Tables: \`tables show\` on a 1,000-commit table ≤ ${TABLE_OPEN_TARGET_MS} ms`;
  const opened = judged(report);
  if (!opened) return [[target, 'skipped' in report ? report.skipped : 'not measured', '—']];
  const cold = median(opened.showMs);
  return [
    [
      target,
      `${ms(cold)} in process with checkpoints (median of ${opened.showMs.length} fresh processes; the command ${ms(median(opened.commandMs))} with Node's start)`,
      cold <= TABLE_OPEN_TARGET_MS ? '✅' : '❌',
    ],
  ];
}

export function tableOpenProblems(report: TableOpenReport): string[] {
  const opened = judged(report);
  if (!opened || median(opened.showMs) <= TABLE_OPEN_TARGET_MS) return [];
  return [
    `tables show on a 1,000-commit table took ${ms(median(opened.showMs))}, over ${TABLE_OPEN_TARGET_MS} ms`,
  ];
}

/** `markdown` with the tables section, its target row and its caution lines replaced. */
export function spliceTableOpen(
  markdown: string,
  report: TableOpenReport,
  command: string,
  date: string,
): string {
  const spliced = spliceSection(markdown, {
    heading: TABLES_HEADING,
    section: renderTableOpen(report, command, date),
    rowPrefix: '| Tables:',
    targetRows: tableOpenTargetRows(report),
  });
  return spliceCautions(spliced, 'tables', tableOpenProblems(report));
}
