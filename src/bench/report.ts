/** BENCHMARKS.md: the measurements of one `npm run bench` run, against the issue's targets. */
import { formatFigure, formatHeadline, headlineDifferences } from './headline.js';
import type { MachineInfo } from './machine.js';
import type { FloorMeasure, MedallionMeasure, ScaleResult } from './measure.js';

export interface BenchReport {
  command: string;
  /** ISO timestamp of the run's start. */
  date: string;
  machine: MachineInfo;
  memoryLimit: string;
  logicalDate: string;
  results: ScaleResult[];
}

export const TARGETS = {
  /** End to end (runPipeline) at scale 1 and 10. */
  totalMs: new Map<number, number>([
    [1, 5_000],
    [10, 30_000],
  ]),
  /** medallion total ÷ raw-SQL floor total. */
  ratio: 1.5,
  /** Peak RSS at scale 100, in KB (1.5 GiB). */
  rssKbAt100: 1.5 * 1024 * 1024,
};

const MIB = 1024;

export function isMedallion(value: ScaleResult['medallion']): value is MedallionMeasure {
  return 'totalMs' in value;
}

export function isFloor(value: ScaleResult['floor']): value is FloorMeasure {
  return 'totalMs' in value;
}

/** The medallion measure of a run that succeeded; a failed run's times are not comparable. */
export function succeeded(result: ScaleResult): MedallionMeasure | undefined {
  const { medallion } = result;
  return isMedallion(medallion) && medallion.status === 'success' ? medallion : undefined;
}

export function ratio(result: ScaleResult): number | undefined {
  const medallion = succeeded(result);
  const { floor } = result;
  return medallion && isFloor(floor) && floor.totalMs > 0 ? medallion.totalMs / floor.totalMs : undefined;
}

/** The first line of an error message, short enough for a table cell or a banner. */
export function oneLine(message: string): string {
  const first = message.split('\n')[0]?.trim() ?? '';
  return first.length > 240 ? `${first.slice(0, 240)}…` : first;
}

/** Problems that make a run's numbers untrustworthy: failures and disagreements with the floor. */
export function problems(result: ScaleResult): string[] {
  const { medallion: child, floor } = result;
  const medallion = succeeded(result);
  const found: string[] = [];
  if (!isMedallion(child)) found.push(`medallion failed: ${oneLine(child.error)}`);
  else if (child.status !== 'success')
    found.push(`medallion run failed: ${oneLine(child.error ?? 'unknown error')}`);
  if (!isFloor(floor)) found.push(`raw DuckDB floor failed: ${oneLine(floor.error)}`);
  if (medallion && isFloor(floor)) {
    const headline = headlineDifferences(medallion.headline, floor.headline);
    if (headline.length) found.push(`HEADLINE MISMATCH (medallion vs floor): ${headline.join('; ')}`);
    const rows = rowDifferences(medallion, floor);
    if (rows.length) found.push(`row counts differ (medallion vs floor): ${rows.join('; ')}`);
  }
  return found;
}

function rowDifferences(medallion: MedallionMeasure, floor: FloorMeasure): string[] {
  return Object.entries(floor.tables).flatMap(([table, rows]) =>
    medallion.tables[table] === rows ? [] : [`${table} ${medallion.tables[table] ?? 'absent'} vs ${rows}`],
  );
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const mib = (kb: number) => `${formatFigure(Math.round(kb / MIB))} MiB`;
const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
const count = (value: number) => formatFigure(value);

function table(headers: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  const rule = `|${headers.map((_, column) => ((align[column] ?? (column === 0 ? 'l' : 'r')) === 'r' ? '---:' : ':---')).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function renderReport(report: BenchReport): string {
  const { machine, results } = report;
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(`Made with \`${report.command}\` on ${report.date}.`, '');
  out.push(
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${(machine.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, ` +
      `${machine.platform}; Node ${machine.node}; DuckDB ${machine.duckdb}.`,
    '',
  );
  out.push(
    `Settings: sample data from \`generateDemoData\` with seed 42; DuckDB memory limit ${report.memoryLimit} (spilling to disk) ` +
      `for both medallion and the floor; logical date ${report.logicalDate}; every run in its own child process on a fresh lake.`,
    '',
  );

  const troubles = results.flatMap((result) =>
    problems(result).map((problem) => `scale ${result.scale}: ${problem}`),
  );
  if (troubles.length) {
    out.push('> [!CAUTION]', ...troubles.map((problem) => `> ❌ **${problem}**`), '');
  }

  out.push('## Targets', '', renderTargets(results), '');
  out.push('## Results', '', renderMain(results), '');
  if (!results.some((result) => result.scale === 100)) {
    out.push('scale 100: run `npm run bench -- --with-100`', '');
  }
  out.push('## Time per task', '');
  for (const result of results) {
    out.push(`### Scale ${result.scale}`, '', renderTasks(result), '');
    const overhead = renderOverhead(result);
    if (overhead)
      out.push(
        `Where medallion's extra time goes at scale ${result.scale} (each source's bronze + silver together, since the floor parses the JSON inside its silver step):`,
        '',
        overhead,
        '',
      );
  }
  out.push('## How it is measured', '', ...METHOD, '');
  return `${out.join('\n').trimEnd()}\n`;
}

function renderTargets(results: ScaleResult[]): string {
  const byScale = (scale: number) => results.find((result) => result.scale === scale);
  const mark = (met: boolean | undefined) => (met === undefined ? '—' : met ? '✅' : '❌');
  const rows: string[][] = [];
  for (const [scale, limit] of TARGETS.totalMs) {
    const result = byScale(scale);
    const medallion = result && succeeded(result);
    const cell = !result ? 'not measured' : medallion ? seconds(medallion.totalMs) : 'run failed';
    rows.push([
      `scale ${scale} end to end ≤ ${seconds(limit)}`,
      cell,
      result && !medallion ? '❌' : mark(medallion ? medallion.totalMs <= limit : undefined),
    ]);
  }
  for (const result of results) {
    const value = ratio(result);
    rows.push([
      `scale ${result.scale}: medallion within ${TARGETS.ratio}× of the raw-SQL floor`,
      value === undefined ? 'run failed' : `${value.toFixed(2)}×`,
      value === undefined ? '❌' : mark(value <= TARGETS.ratio),
    ]);
  }
  const at100 = byScale(100);
  const medallion100 = at100 && succeeded(at100);
  rows.push([
    `scale 100: peak RSS ≤ ${mib(TARGETS.rssKbAt100)} (1.5 GiB)`,
    !at100 ? 'not measured (`--with-100`)' : medallion100 ? mib(medallion100.maxRssKb) : 'run failed',
    at100 && !medallion100
      ? '❌'
      : mark(medallion100 ? medallion100.maxRssKb <= TARGETS.rssKbAt100 : undefined),
  ]);
  return table(['Target (from the issue)', 'Measured', 'Met'], rows, ['l', 'r', 'l']);
}

function renderMain(results: ScaleResult[]): string {
  const file = (result: ScaleResult, pattern: RegExp) =>
    result.input.find((entry) => pattern.test(entry.name));
  const medallionValue = (result: ScaleResult, show: (m: MedallionMeasure) => string) =>
    isMedallion(result.medallion) ? show(result.medallion) : `❌ ${oneLine(result.medallion.error)}`;
  const floorValue = (result: ScaleResult, show: (f: FloorMeasure) => string) =>
    isFloor(result.floor) ? show(result.floor) : `❌ ${oneLine(result.floor.error)}`;
  const metrics: [string, (result: ScaleResult) => string][] = [
    ['Contracts JSON', (r) => megabytes(file(r, /\.json$/)?.bytes ?? 0)],
    ['Contract records', (r) => count(file(r, /\.json$/)?.records ?? 0)],
    ['Establishments CSV', (r) => megabytes(file(r, /etablissements/)?.bytes ?? 0)],
    ['Establishment rows', (r) => count(file(r, /etablissements/)?.records ?? 0)],
    ['NAF rows', (r) => count(file(r, /naf/)?.records ?? 0)],
    ['Generate sample data (not in pipeline time)', (r) => seconds(r.generateMs)],
    [
      '**medallion total** (runPipeline)',
      (r) =>
        medallionValue(r, (m) =>
          m.status === 'success'
            ? `**${seconds(m.totalMs)}**`
            : `❌ failed after ${seconds(m.totalMs)}: ${oneLine(m.error ?? '')}`,
        ),
    ],
    [
      'medallion child process wall (with Node start)',
      (r) => medallionValue(r, (m) => seconds(m.processWallMs)),
    ],
    ['**raw DuckDB floor total**', (r) => floorValue(r, (f) => `**${seconds(f.totalMs)}**`)],
    ['floor JSON read', (r) => r.floor.jsonMode],
    [
      '**Overhead ratio** (medallion ÷ floor)',
      (r) => {
        const value = ratio(r);
        return value === undefined ? '—' : `**${value.toFixed(2)}×**`;
      },
    ],
    ['Peak RSS medallion', (r) => medallionValue(r, (m) => mib(m.maxRssKb))],
    ['Peak RSS floor', (r) => floorValue(r, (f) => mib(f.maxRssKb))],
    ['Bronze rows ingested', (r) => medallionValue(r, (m) => count(m.bronzeRows))],
    [
      'Rows per second (bronze rows ÷ medallion total)',
      (r) => medallionValue(r, (m) => count(Math.round(m.rowsPerSecond))),
    ],
    ['Headline (medallion)', (r) => medallionValue(r, (m) => formatHeadline(m.headline))],
    [
      "Headline = floor's",
      (r) => {
        const medallion = succeeded(r);
        if (!medallion || !isFloor(r.floor)) return '—';
        const differences = headlineDifferences(medallion.headline, r.floor.headline);
        return differences.length ? `❌ **MISMATCH**: ${differences.join('; ')}` : '✅ identical';
      },
    ],
    [
      "Silver/gold row counts = floor's",
      (r) => {
        const medallion = succeeded(r);
        if (!medallion || !isFloor(r.floor)) return '—';
        const differences = rowDifferences(medallion, r.floor);
        return differences.length ? `❌ ${differences.join('; ')}` : '✅ all 8 tables';
      },
    ],
  ];
  return table(
    ['Metric', ...results.map((result) => `scale ${result.scale}`)],
    metrics.map(([label, show]) => [label, ...results.map(show)]),
  );
}

/** The floor's step doing the same work as a medallion task, if any. */
function counterpart(task: string): string {
  return task.startsWith('bronze.') ? `read ${task.slice('bronze.'.length)}` : task;
}

function renderTasks(result: ScaleResult): string {
  const { medallion, floor } = result;
  if (!isMedallion(medallion)) return `medallion failed: ${oneLine(medallion.error)}`;
  const steps = isFloor(floor) ? floor.steps : [];
  const floorStep = (id: string) => steps.find((step) => step.id === id);
  const share = (ms: number) => `${((100 * ms) / Math.max(1, medallion.totalMs)).toFixed(1)} %`;
  const rows = medallion.tasks.map((task) => {
    const step = floorStep(counterpart(task.id));
    return [
      `${task.id}${task.status === 'success' ? '' : ` (${task.status})`}`,
      seconds(task.durationMs),
      share(task.durationMs),
      step ? seconds(step.durationMs) : '—',
    ];
  });
  const inTasks = medallion.tasks.reduce((sum, task) => sum + task.durationMs, 0);
  const outside = medallion.totalMs - inTasks;
  const floorOutside = isFloor(floor)
    ? floor.totalMs - steps.reduce((sum, step) => sum + step.durationMs, 0)
    : undefined;
  rows.push([
    'outside tasks (engine start, macros, headline, summary)',
    seconds(outside),
    share(outside),
    floorOutside === undefined ? '—' : seconds(floorOutside),
  ]);
  rows.push([
    '**total**',
    `**${seconds(medallion.totalMs)}**`,
    '100 %',
    isFloor(floor) ? `**${seconds(floor.totalMs)}**` : '—',
  ]);
  return table(['Task', 'medallion', 'share', 'floor (same work)'], rows);
}

/** medallion vs floor time per stage of the work, and what medallion spends beyond the floor. */
function renderOverhead(result: ScaleResult): string | undefined {
  const medallion = succeeded(result);
  const { floor } = result;
  if (!medallion || !isFloor(floor)) return undefined;
  const taskMs = (predicate: (id: string) => boolean) =>
    medallion.tasks.filter((task) => predicate(task.id)).reduce((sum, task) => sum + task.durationMs, 0);
  const stepMs = (predicate: (id: string) => boolean) =>
    floor.steps.filter((step) => predicate(step.id)).reduce((sum, step) => sum + step.durationMs, 0);
  const sources = [
    ...new Set(
      medallion.tasks.filter((task) => task.id.startsWith('bronze.')).map((task) => task.id.slice(7)),
    ),
  ];
  const stages: [string, number, number | undefined][] = [
    ['ingest (landing copy, checksums, manifest)', taskMs((id) => id === 'ingest'), undefined],
    ...sources.map((source): [string, number, number] => [
      `${source}: bronze + silver`,
      taskMs((id) => id === `bronze.${source}` || id === `silver.${source}`),
      stepMs((id) => id === `read ${source}` || id === `silver.${source}`),
    ]),
    ['gold (5 tables)', taskMs((id) => id.startsWith('gold.')), stepMs((id) => id.startsWith('gold.'))],
    ['quality_check', taskMs((id) => id === 'quality_check'), undefined],
  ];
  const inTasks = medallion.tasks.reduce((sum, task) => sum + task.durationMs, 0);
  const inSteps = floor.steps.reduce((sum, step) => sum + step.durationMs, 0);
  stages.push(['outside tasks / steps', medallion.totalMs - inTasks, floor.totalMs - inSteps]);
  const extra = medallion.totalMs - floor.totalMs;
  const rows = stages.map(([label, ours, theirs]) => {
    const delta = ours - (theirs ?? 0);
    return [
      label,
      seconds(ours),
      theirs === undefined ? '—' : seconds(theirs),
      `${delta >= 0 ? '+' : '−'}${seconds(Math.abs(delta))}`,
      extra > 0 ? `${((100 * delta) / extra).toFixed(0)} %` : '—',
    ];
  });
  rows.push([
    '**total**',
    `**${seconds(medallion.totalMs)}**`,
    `**${seconds(floor.totalMs)}**`,
    `**+${seconds(extra)}**`,
    '100 %',
  ]);
  return table(['Stage', 'medallion', 'floor', 'extra', 'share of extra'], rows);
}

const METHOD = [
  '- **medallion total**: `summary.durationMs` of one `runPipeline` call (landing → bronze → silver → gold → quality_check, Delta commits included) in a child process (`node dist/bench/run-once.js`), on a fresh lake.',
  "- **raw DuckDB floor**: the same transformations as one plain DuckDB script in another child process (`node dist/bench/run-floor.js`, see `src/bench/raw-duckdb-floor.ts`): the three source files read directly (the JSON split to NDJSON with `splitJsonRecords`, the split counted in the floor, then `read_json` in parallel, which is faster than `read_json` of the whole document + `unnest(marches)`, parsed on one thread; `--floor-json document` measures that variant; CSVs with `read_csv(all_varchar = true, ignore_errors = true)`), then the pipeline's own macros, table SQL and refine rules (dedupe, quarantine filter, shape) for the 3 silver and 5 gold tables, each written to Parquet (zstd, partitioned like medallion). No landing copy, bronze tables, Delta log, accounting, quarantine tables or quality checks.",
  '- **Overhead ratio**: medallion total ÷ floor total. **Peak RSS**: `process.resourceUsage().maxRSS` of each child (Node + DuckDB). **Rows per second**: rows appended to the three bronze tables ÷ medallion total seconds.',
  '- Sample data generation is timed separately and is not part of either total. Times are one run each (no warm-up, no repetition); the source files were just written, so they are in the page cache.',
];
