/** The copy floor part of BENCHMARKS.md: each bronze task beside DuckDB alone copying its source file. */
import type { ByTable, CopyFloorReport, CopyFloorScale } from './copy-floor-bench.js';
import { table } from './report.js';
import { spliceWithCautions } from './splice.js';
import { seconds } from './format.js';

export const COPY_FLOOR_HEADING = '## Copy floor: bronze beside DuckDB alone';
const ROW_PREFIX = '| Copy floor';
/** From the issue: each bronze task within 1.5× of its copy floor. */
export const COPY_FLOOR_TARGET = 1.5;

function median(values: readonly number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : undefined;
}

type Column = 'floor' | 'alone' | 'inRun';

/** The figures of one column for one table, round by round (failed rounds apart). */
function figures(scale: CopyFloorScale, column: Column, bronzeTable: string): number[] {
  return scale.rounds.flatMap((round) => {
    const measured: ByTable | { error: string } = round[column];
    const value = 'error' in measured ? undefined : measured[bronzeTable];
    return typeof value === 'number' ? [value] : [];
  });
}

function tablesOf(scale: CopyFloorScale): string[] {
  const names = new Set<string>();
  for (const round of scale.rounds)
    if (!('error' in round.floor)) Object.keys(round.floor).forEach((n) => names.add(n));
  return [...names];
}

/** Median task ÷ median floor. */
function ratio(scale: CopyFloorScale, bronzeTable: string, column: Column = 'alone'): number | undefined {
  const floor = median(figures(scale, 'floor', bronzeTable));
  const task = median(figures(scale, column, bronzeTable));
  return floor && task !== undefined ? task / floor : undefined;
}

const cell = (values: number[]) =>
  values.length ? `${seconds(median(values)!)} (${values.map(seconds).join(' / ')})` : '—';

export function renderCopyFloor(report: CopyFloorReport, command: string, date: string): string[] {
  const lines = [COPY_FLOOR_HEADING, ''];
  if ('skipped' in report) return [...lines, `Not measured: ${report.skipped}.`];
  const rounds = Math.max(...report.scales.map((scale) => scale.rounds.length));
  lines.push(
    `Made with \`${command}\` on ${date}; load average (1 min) ${report.loadAverage.before.toFixed(2)} before, ${report.loadAverage.after.toFixed(2)} after (the targets need a quiet machine: on 2 cores, a load above 1 slows every figure). To measure it alone: \`npm run build && node dist/bench/main.js --copy-floor-only\` (at \`--scales\`, default 1 and 10; \`--copy-floor-rounds\`, default 3); \`npm run bench\` measures it too (\`--no-copy-floor\` skips it).`,
    '',
    `- **Copy floor** (\`src/bench/copy-floor.ts\`, child \`node dist/bench/run-floor.js --copy\`): DuckDB alone reading each source file and writing its records as one zstd Parquet file, one file after the other, memory limit ${report.memoryLimit}. CSV: \`read_csv\` with every column as text, the declared delimiter, malformed rows skipped. JSON: the document read whole by \`read_json\` (\`format = 'unstructured'\`), its records unnested and \`json_transform\`ed to the bronze table's declared fields. No checks, lineage, landing copy or Delta log.`,
    `- **Bronze task alone**: the task's duration in \`run-once.js --bronze-only --slots 1\` — ingest, then the bronze tasks one at a time, each with what it does in any run (UTF-8, checksum, quote and header checks; rejected rows quarantined; lineage and \`_record\`; one Delta commit; the landing manifest). **In a whole run**: the same task in a run of the whole pipeline (two tasks at a time, so the bronze tasks share the cores).`,
    `- Each round runs the three on fresh lakes over the same sample data (seed 42), one after the other; ${rounds} round(s), the median first and each round's figure in brackets. The ratio is the median task ÷ the median floor.`,
    '',
  );
  const rows = report.scales.flatMap((scale) =>
    tablesOf(scale).map((name) => {
      const alone = ratio(scale, name);
      const inRun = ratio(scale, name, 'inRun');
      return [
        `${scale.scale}`,
        `bronze.${name}`,
        cell(figures(scale, 'floor', name)),
        cell(figures(scale, 'alone', name)),
        alone === undefined ? '—' : `**${alone.toFixed(2)}×** ${alone <= COPY_FLOOR_TARGET ? '✅' : '❌'}`,
        cell(figures(scale, 'inRun', name)),
        inRun === undefined ? '—' : `${inRun.toFixed(2)}×`,
      ];
    }),
  );
  lines.push(
    table(
      [
        'Scale',
        'Task',
        'Copy floor',
        'Bronze task alone',
        `÷ floor (target ≤ ${COPY_FLOOR_TARGET}×)`,
        'In a whole run',
        '÷ floor',
      ],
      rows,
      ['l', 'l'],
    ),
  );
  const inputs = report.scales.map(
    (scale) =>
      `scale ${scale.scale}: ${scale.input.map((file) => `${file.name} ${(file.bytes / 1e6).toFixed(1)} MB`).join(', ')}`,
  );
  lines.push('', `Source files: ${inputs.join('; ')}.`);
  return lines;
}

export function copyFloorTargetRows(report: CopyFloorReport): string[][] {
  if ('skipped' in report) return [];
  return report.scales.map((scale) => {
    const ratios = tablesOf(scale).map((name) => [name, ratio(scale, name)] as const);
    const met =
      ratios.length > 0 && ratios.every(([, value]) => value !== undefined && value <= COPY_FLOOR_TARGET);
    return [
      `Copy floor, scale ${scale.scale}: each bronze task within ${COPY_FLOOR_TARGET}× of DuckDB alone copying its file`,
      ratios
        .map(([name, value]) => `${name} ${value === undefined ? '—' : `${value.toFixed(2)}×`}`)
        .join(' · '),
      met ? '✅' : '❌',
    ];
  });
}

/** Rounds that could not be measured. */
export function copyFloorProblems(report: CopyFloorReport): string[] {
  if ('skipped' in report) return [];
  return report.scales.flatMap((scale) =>
    scale.rounds.flatMap((round, index) =>
      (['floor', 'alone', 'inRun'] as const).flatMap((column) => {
        const measured = round[column];
        return 'error' in measured
          ? [`scale ${scale.scale}, round ${index + 1}, ${column}: ${measured.error}`]
          : [];
      }),
    ),
  );
}

export function spliceCopyFloor(
  markdown: string,
  report: CopyFloorReport,
  command: string,
  date: string,
): string {
  return spliceWithCautions(markdown, {
    heading: COPY_FLOOR_HEADING,
    section: renderCopyFloor(report, command, date),
    rowPrefix: ROW_PREFIX,
    targetRows: copyFloorTargetRows(report),
    cautionPrefix: 'copy floor',
    problems: copyFloorProblems(report),
  });
}
