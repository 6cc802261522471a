/** BENCHMARKS.md: the measurements of one `npm run bench` run, against the issue's targets. */
import { formatFigure, formatHeadline, headlineDifferences } from './headline.js';
import type { MachineInfo } from './machine.js';
import type { SpanCpu } from './s3-server.js';
import {
  renderScheduling,
  schedulingProblems,
  schedulingTargetRows,
  type SchedulingReport,
} from './scheduling-report.js';
import {
  failed,
  type FloorMeasure,
  type IngestMeasure,
  type MedallionMeasure,
  type OperationTiming,
  type S3Result,
  type ScaleResult,
} from './measure.js';
import { startupProblems, startupTargetRows, type StartupReport } from './startup.js';
import { renderUi, uiProblems, uiTargetRows, type UiReport } from './ui-report.js';
import { seconds } from './format.js';

export interface BenchReport {
  command: string;
  /** ISO timestamp of the run's start. */
  date: string;
  machine: MachineInfo;
  memoryLimit: string;
  logicalDate: string;
  results: ScaleResult[];
  /** The S3 / MinIO transfers, or why they were not measured; absent in reports of older runs. */
  s3?: S3Result | { skipped: string };
  /** The orchestrator's scheduling overhead (scheduling.ts), or why it was not measured. */
  scheduling?: SchedulingReport;
  /** How fast the command starts (startup.ts). */
  startup?: StartupReport;
  /** The web UI's API latency, grid drawing and bundle (ui-latency.ts). */
  ui?: UiReport;
}

export const TARGETS = {
  /** End to end (runPipeline) at scale 1 and 10. */
  totalMs: new Map<number, number>([
    [1, 5_000],
    [10, 30_000],
  ]),
  /** medallion total ÷ raw-SQL floor total. */
  ratio: 1.5,
  /**
   * Issue 13's reference: a pandas script of the same rules (gold only), process wall with its start, measured
   * beside medallion on this machine; medallion's child process wall must be this many times faster.
   */
  pandas: new Map<number, { wallMs: number; faster: number }>([
    [1, { wallMs: 5_800, faster: 1.5 }],
    [10, { wallMs: 45_800, faster: 2.5 }],
  ]),
  /** Peak RSS at scale 100, in KB (1.5 GiB). */
  rssKbAt100: 1.5 * 1024 * 1024,
  /** Ingest of one large file from MinIO: MB/s ÷ the single-stream GetObject + PutObject baseline's. */
  s3LargeFileRatio: 3,
  /** Ingest of many small files from MinIO, files per second. */
  s3SmallFilesPerSecond: 500,
  /** The pipeline with source and lake on MinIO ÷ on local disk. */
  s3PipelineRatio: 1.5,
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

const mib = (kb: number) => `${formatFigure(Math.round(kb / MIB))} MiB`;
const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
const count = (value: number) => formatFigure(value);

export function table(headers: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
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

  const troubles = [
    ...results.flatMap((result) => problems(result).map((problem) => `scale ${result.scale}: ${problem}`)),
    ...(report.s3 && !('skipped' in report.s3)
      ? s3Problems(report.s3).map((problem) => `S3: ${problem}`)
      : []),
    ...schedulingProblems(report.scheduling).map((problem) => `scheduling: ${problem}`),
    ...startupProblems(report.startup).map((problem) => `startup: ${problem}`),
    ...uiProblems(report.ui).map((problem) => `web UI: ${problem}`),
  ];
  if (troubles.length) {
    out.push('> [!CAUTION]', ...troubles.map((problem) => `> ❌ **${problem}**`), '');
  }

  out.push('## Targets', '', renderTargets(results, report), '');
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
  out.push('## S3 / MinIO transfers', '', ...renderS3(report), '');
  out.push(...renderScheduling(report.scheduling, report.command, report.date, machine.cores), '');
  if (report.ui) out.push(...renderUi(report.ui, report.command, report.date), '');
  out.push('## How it is measured', '', ...METHOD, '');
  return `${out.join('\n').trimEnd()}\n`;
}

function renderTargets(results: ScaleResult[], report: BenchReport): string {
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
  for (const [scale, pandas] of TARGETS.pandas) {
    const medallion = byScale(scale) && succeeded(byScale(scale)!);
    const faster = medallion && pandas.wallMs / medallion.processWallMs;
    rows.push([
      `scale ${scale}: ≥ ${pandas.faster}× faster than the pandas reference (${seconds(pandas.wallMs)}, process wall)`,
      faster ? `${faster.toFixed(2)}× (${seconds(medallion.processWallMs)})` : 'not measured',
      mark(faster ? faster >= pandas.faster : undefined),
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
  rows.push(...s3TargetRows(report.s3));
  rows.push(...schedulingTargetRows(report.scheduling));
  rows.push(...startupTargetRows(report.startup));
  rows.push(...uiTargetRows(report.ui));
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

// ---------------------------------------------------------------------------------------------
// S3 / MinIO transfers

const MB = 1e6;
/** Megabytes (10^6 bytes) per second. */
const mbPerSecond = (bytes: number, ms: number) => bytes / MB / (Math.max(ms, 1) / 1000);
const rate = (value: number) => formatFigure(Math.round(value));

function successfulRun(run: MedallionMeasure | { error: string }): MedallionMeasure | undefined {
  return !failed(run) && run.status === 'success' ? run : undefined;
}

/** The figures the S3 targets are about; undefined where a part failed. */
export function s3Figures(s3: S3Result): {
  baselineMBps?: number;
  largeMBps?: number;
  largeRatio?: number;
  filesPerSecond?: number;
  local?: MedallionMeasure;
  onS3?: MedallionMeasure;
  pipelineRatio?: number;
} {
  const large = failed(s3.large) ? undefined : s3.large;
  const baseline = large && !failed(large.baseline) ? large.baseline : undefined;
  const ingestLarge = large && !failed(large.medallion) ? large.medallion : undefined;
  const baselineMBps = baseline && mbPerSecond(baseline.bytes, baseline.getMs + baseline.putMs);
  const largeMBps = ingestLarge && mbPerSecond(ingestLarge.bytes, ingestLarge.ingestMs);
  const small = failed(s3.small) ? undefined : s3.small;
  const ingestSmall = small && !failed(small.medallion) ? small.medallion : undefined;
  const pipeline = failed(s3.pipeline) ? undefined : s3.pipeline;
  const local = pipeline && successfulRun(pipeline.local);
  const onS3 = pipeline && successfulRun(pipeline.s3);
  return {
    ...(baselineMBps !== undefined ? { baselineMBps } : {}),
    ...(largeMBps !== undefined ? { largeMBps } : {}),
    ...(baselineMBps && largeMBps ? { largeRatio: largeMBps / baselineMBps } : {}),
    ...(ingestSmall
      ? { filesPerSecond: ingestSmall.landed / (Math.max(ingestSmall.ingestMs, 1) / 1000) }
      : {}),
    ...(local ? { local } : {}),
    ...(onS3 ? { onS3 } : {}),
    ...(local && onS3 && local.totalMs > 0 ? { pipelineRatio: onS3.totalMs / local.totalMs } : {}),
  };
}

/** Parts of the S3 run that failed, and disagreements between the pipeline on MinIO and on disk. */
export function s3Problems(s3: S3Result | { skipped: string }): string[] {
  if ('skipped' in s3) return [];
  const found: string[] = [];
  if (failed(s3.large)) found.push(`large file failed: ${oneLine(s3.large.error)}`);
  else {
    if (failed(s3.large.baseline))
      found.push(`large file baseline failed: ${oneLine(s3.large.baseline.error)}`);
    if (failed(s3.large.medallion))
      found.push(`large file ingest failed: ${oneLine(s3.large.medallion.error)}`);
  }
  if (failed(s3.small)) found.push(`small files failed: ${oneLine(s3.small.error)}`);
  else if (failed(s3.small.medallion))
    found.push(`small files ingest failed: ${oneLine(s3.small.medallion.error)}`);
  if (failed(s3.pipeline)) found.push(`pipeline on MinIO failed: ${oneLine(s3.pipeline.error)}`);
  else {
    for (const [label, run] of [
      ['local disk', s3.pipeline.local],
      ['MinIO', s3.pipeline.s3],
    ] as const) {
      if (failed(run)) found.push(`pipeline on ${label} failed: ${oneLine(run.error)}`);
      else if (run.status !== 'success')
        found.push(`pipeline run on ${label} failed: ${oneLine(run.error ?? 'unknown error')}`);
    }
    const { local, onS3 } = s3Figures(s3);
    if (local && onS3) {
      const headline = headlineDifferences(onS3.headline, local.headline);
      if (headline.length) found.push(`HEADLINE MISMATCH (MinIO vs local disk): ${headline.join('; ')}`);
      const rows = Object.entries(local.tables).flatMap(([name, count]) =>
        onS3.tables[name] === count ? [] : [`${name} ${onS3.tables[name] ?? 'absent'} vs ${count}`],
      );
      if (rows.length) found.push(`row counts differ (MinIO vs local disk): ${rows.join('; ')}`);
    }
  }
  return found;
}

function s3TargetRows(s3: BenchReport['s3']): string[][] {
  const labels = [
    `S3: ingest of one large file ≥ ${TARGETS.s3LargeFileRatio}× the single-stream GetObject + PutObject baseline`,
    `S3: ingest of small files ≥ ${TARGETS.s3SmallFilesPerSecond} files/s`,
    `S3: pipeline at scale 10 on MinIO within ${TARGETS.s3PipelineRatio}× of local disk`,
  ];
  if (!s3 || 'skipped' in s3) {
    return labels.map((label) => [label, 'not measured (MinIO: `--s3`)', '—']);
  }
  const figures = s3Figures(s3);
  const row = (
    label: string,
    value: number | undefined,
    show: (v: number) => string,
    met: (v: number) => boolean,
  ) => [
    label,
    value === undefined ? 'run failed' : show(value),
    value === undefined ? '❌' : met(value) ? '✅' : '❌',
  ];
  return [
    row(
      labels[0] ?? '',
      figures.largeRatio,
      (value) =>
        `${value.toFixed(2)}× (${rate(figures.largeMBps ?? 0)} vs ${rate(figures.baselineMBps ?? 0)} MB/s)`,
      (value) => value >= TARGETS.s3LargeFileRatio,
    ),
    row(
      labels[1] ?? '',
      figures.filesPerSecond,
      (value) => `${rate(value)} files/s`,
      (value) => value >= TARGETS.s3SmallFilesPerSecond,
    ),
    row(
      labels[2] ?? '',
      figures.pipelineRatio,
      (value) =>
        `${value.toFixed(2)}× (${seconds(figures.onS3?.totalMs ?? 0)} vs ${seconds(figures.local?.totalMs ?? 0)})`,
      (value) => value <= TARGETS.s3PipelineRatio,
    ),
  ];
}

function renderPipelineOperations(local: MedallionMeasure, onS3: MedallionMeasure): string | undefined {
  if (!local.operations || !onS3.operations) return undefined;
  const localByName = new Map(local.operations.map((operation) => [operation.name, operation]));
  const s3ByName = new Map(onS3.operations.map((operation) => [operation.name, operation]));
  const names = [...new Set([...localByName.keys(), ...s3ByName.keys()])]
    .filter((name) => (localByName.get(name)?.busyMs ?? 0) >= 50 || (s3ByName.get(name)?.busyMs ?? 0) >= 50)
    .sort((a, b) => (s3ByName.get(b)?.busyMs ?? 0) - (s3ByName.get(a)?.busyMs ?? 0));
  if (!names.length) return undefined;
  const cell = (operation: OperationTiming | undefined) =>
    operation ? `${seconds(operation.busyMs)} (${count(operation.calls)})` : '—';
  return table(
    ['Store call', 'local disk: busy (calls)', 'MinIO: busy (calls)'],
    names.map((name) => [`\`${name}\``, cell(localByName.get(name)), cell(s3ByName.get(name))]),
  );
}

const HOW_TO_ENABLE =
  'To measure it: `npm run build && bash scripts/services/minio.sh start && node dist/bench/main.js --s3` ' +
  '(the S3 part also runs by itself whenever `.cache/services/minio.env` exists or `MEDALLION_TEST_S3_ENDPOINT`/' +
  '`_ACCESS_KEY`/`_SECRET_KEY` are set; `--no-s3` skips it; `bash scripts/services/minio.sh stop` afterwards).';

function renderS3(report: BenchReport): string[] {
  const { s3 } = report;
  if (!s3 || 'skipped' in s3) {
    return [`Not measured in this run${s3 ? ` (${s3.skipped})` : ''}.`, '', HOW_TO_ENABLE];
  }
  const out: string[] = [];
  out.push(
    `Made with \`${report.command}\` and a MinIO server started by \`bash scripts/services/minio.sh start\` ` +
      `(${s3.serverVersion ?? 'MinIO version unknown'}) at ${s3.endpoint}, found in ${s3.foundIn}: loopback, ` +
      'on the same cores and disk as the benchmark. Every figure is one run on fresh buckets with an empty object cache. ' +
      `medallion's transfer settings: ${s3.transferSettings ?? 'not recorded'}.`,
    '',
    HOW_TO_ENABLE,
    '',
  );
  out.push(...renderS3Summary(s3), '');
  out.push(...cpuCeilings(s3, report.machine.cores));
  const large = failed(s3.large) ? undefined : s3.large;
  if (large && !failed(large.medallion)) {
    out.push(
      `Where the large-file ingest spends its time (${megabytes(large.bytes)}; SHA-256 of the same bytes on local disk: ` +
        `${seconds(large.sha256Ms)}, ${rate(mbPerSecond(large.bytes, large.sha256Ms))} MB/s):`,
      '',
      renderOperations(large.medallion),
      '',
    );
  }
  const small = failed(s3.small) ? undefined : s3.small;
  if (small && !failed(small.medallion)) {
    out.push(
      `Where the small-files ingest spends its time (${count(small.files)} files, ${megabytes(small.bytes)}):`,
      '',
      renderOperations(small.medallion),
      '',
    );
  }
  const pipeline = failed(s3.pipeline) ? undefined : s3.pipeline;
  if (pipeline && !failed(pipeline.local) && !failed(pipeline.s3)) {
    out.push(
      `The pipeline at scale ${pipeline.scale} per task, local disk vs MinIO (source files: ` +
        `${pipeline.input.map((file) => `${file.name} ${megabytes(file.bytes)}`).join(', ')}):`,
      '',
      renderPipelineTasks(pipeline.local, pipeline.s3),
      '',
    );
    const operations = renderPipelineOperations(pipeline.local, pipeline.s3);
    if (operations) {
      out.push(
        'Store calls during those two runs (busy time summed over calls, which can overlap; calls over 0.05 s in total):',
        '',
        operations,
        '',
      );
    }
  }
  return out;
}

/**
 * MinIO on loopback shares the cores with the client: when a copy is CPU-bound, the CPU it costs
 * per byte (or per file), client and server together, bounds its speed whatever its concurrency.
 */
function cpuCeilings(s3: S3Result, cores: number): string[] {
  const out: string[] = [];
  const large = failed(s3.large) ? undefined : s3.large;
  const baseline = large && !failed(large.baseline) ? large.baseline : undefined;
  const ingestLarge = large && !failed(large.medallion) ? large.medallion : undefined;
  if (large && baseline?.serverCpuMs !== undefined) {
    const baselineCpu = baseline.clientCpuMs + baseline.serverCpuMs;
    const busy = baselineCpu / Math.max(baseline.getMs + baseline.putMs, 1);
    const ours =
      ingestLarge?.serverCpuMs !== undefined
        ? ` medallion's ingest spent ${seconds(ingestLarge.cpuMs)} client + ${seconds(ingestLarge.serverCpuMs)} MinIO CPU on the same bytes, ` +
          `${((ingestLarge.cpuMs + ingestLarge.serverCpuMs) / Math.max(baselineCpu, 1)).toFixed(2)}× the baseline's: ` +
          `that CPU alone bounds it at ${((cores * (baseline.getMs + baseline.putMs)) / Math.max(ingestLarge.cpuMs + ingestLarge.serverCpuMs, 1)).toFixed(2)}× the baseline on ${cores} cores.`
        : '';
    out.push(
      `CPU bound, large file: the single-stream baseline already kept ${busy.toFixed(2)} of the ${cores} cores busy ` +
        `(${seconds(baseline.clientCpuMs)} client + ${seconds(baseline.serverCpuMs)} MinIO CPU in ${seconds(baseline.getMs + baseline.putMs)}), ` +
        `${(baselineCpu / (large.bytes / MB)).toFixed(1)} ms of CPU per MB copied. A copy that costs as much CPU per byte ` +
        `can be at most ${(cores / busy).toFixed(2)}× faster here, however many streams it uses.${ours}`,
      '',
    );
  }
  const small = failed(s3.small) ? undefined : s3.small;
  const ingestSmall = small && !failed(small.medallion) ? small.medallion : undefined;
  if (ingestSmall?.serverCpuMs !== undefined && ingestSmall.landed > 0) {
    const perFile = (ingestSmall.cpuMs + ingestSmall.serverCpuMs) / ingestSmall.landed;
    out.push(
      `CPU bound, small files: ${(ingestSmall.cpuMs / ingestSmall.landed).toFixed(2)} ms client + ` +
        `${(ingestSmall.serverCpuMs / ingestSmall.landed).toFixed(2)} MinIO = ${perFile.toFixed(2)} ms of CPU per file, ` +
        `so at most ${rate((cores * 1000) / perFile)} files/s on ${cores} cores ` +
        `(${rate(TARGETS.s3SmallFilesPerSecond)} files/s needs ≤ ${((cores * 1000) / TARGETS.s3SmallFilesPerSecond).toFixed(1)} ms per file).`,
      '',
    );
  }
  return out;
}

function renderS3Summary(s3: S3Result): string[] {
  const figures = s3Figures(s3);
  const disturbed: string[] = [];
  /**
   * Client + MinIO CPU ÷ wall = cores busy; then the CPU other processes of the machine used over the
   * span the counters covered (`span`: process CPU and wall of that span), noted when it matters.
   */
  const cores = (
    label: string,
    clientCpuMs: number | undefined,
    cpu: SpanCpu | undefined,
    wallMs: number,
    span: { cpuMs: number; wallMs: number } | undefined,
  ) => {
    if (clientCpuMs === undefined) return '—';
    const server = cpu?.serverCpuMs;
    let text =
      `${seconds(clientCpuMs)} + ${server === undefined ? '?' : seconds(server)}` +
      (server === undefined ? '' : ` = ${((clientCpuMs + server) / Math.max(wallMs, 1)).toFixed(2)} cores`);
    if (cpu?.machineCpuMs !== undefined && server !== undefined && span) {
      const other = Math.max(0, cpu.machineCpuMs - server - span.cpuMs);
      text += ` (other processes ${seconds(other)})`;
      if (other / Math.max(span.wallMs, 1) > 0.2) {
        disturbed.push(`${label}: ${seconds(other)} of CPU in ${seconds(span.wallMs)}`);
      }
    }
    return text;
  };
  const rows: string[][] = [];
  const fail = (label: string, error: string) => [label, '—', `❌ ${oneLine(error)}`, '—', '—', '—', '—'];
  if (failed(s3.large)) rows.push(fail('large file', s3.large.error));
  else {
    const { baseline, medallion, bytes } = s3.large;
    if (failed(baseline)) rows.push(fail('large file: single-stream baseline', baseline.error));
    else {
      rows.push([
        'Large file: single-stream baseline (1 GetObject → local file, 1 PutObject of it)',
        megabytes(bytes),
        `${seconds(baseline.getMs + baseline.putMs)} (GET ${seconds(baseline.getMs)} · PUT ${seconds(baseline.putMs)})`,
        `**${rate(mbPerSecond(bytes, baseline.getMs + baseline.putMs))} MB/s** (GET ${rate(mbPerSecond(bytes, baseline.getMs))} · PUT ${rate(mbPerSecond(bytes, baseline.putMs))})`,
        '—',
        cores('baseline', baseline.clientCpuMs, baseline, baseline.getMs + baseline.putMs, {
          cpuMs: baseline.clientCpuMs,
          wallMs: baseline.getMs + baseline.putMs,
        }),
        '—',
      ]);
    }
    if (failed(medallion)) rows.push(fail('large file: medallion ingest', medallion.error));
    else {
      rows.push([
        'Large file: **medallion ingest** (landing copy with SHA-256, manifest commit)',
        megabytes(medallion.bytes),
        seconds(medallion.ingestMs),
        `**${rate(mbPerSecond(medallion.bytes, medallion.ingestMs))} MB/s**` +
          (figures.largeRatio === undefined ? '' : ` = **${figures.largeRatio.toFixed(2)}×** baseline`),
        `≥ ${TARGETS.s3LargeFileRatio}× ${figures.largeRatio === undefined ? '—' : figures.largeRatio >= TARGETS.s3LargeFileRatio ? '✅' : '❌'}`,
        cores('large-file ingest', medallion.cpuMs, medallion, medallion.ingestMs, {
          cpuMs: medallion.processCpuMs,
          wallMs: medallion.processWallMs,
        }),
        mib(medallion.maxRssKb),
      ]);
    }
  }
  if (failed(s3.small)) rows.push(fail('small files', s3.small.error));
  else if (failed(s3.small.medallion))
    rows.push(fail('small files: medallion ingest', s3.small.medallion.error));
  else {
    const { medallion, files, bytes } = s3.small;
    const perSecond = figures.filesPerSecond ?? 0;
    rows.push([
      'Small files (1–4 KB): **medallion ingest**',
      `${count(files)} files, ${megabytes(bytes)}`,
      seconds(medallion.ingestMs),
      `**${rate(perSecond)} files/s** (${mbPerSecond(medallion.bytes, medallion.ingestMs).toFixed(1)} MB/s)`,
      `≥ ${TARGETS.s3SmallFilesPerSecond} files/s ${perSecond >= TARGETS.s3SmallFilesPerSecond ? '✅' : '❌'}`,
      cores('small-files ingest', medallion.cpuMs, medallion, medallion.ingestMs, {
        cpuMs: medallion.processCpuMs,
        wallMs: medallion.processWallMs,
      }),
      mib(medallion.maxRssKb),
    ]);
  }
  if (failed(s3.pipeline)) rows.push(fail('pipeline', s3.pipeline.error));
  else {
    const { local, s3: onS3, scale, input } = s3.pipeline;
    const inputBytes = input.reduce((sum, file) => sum + file.bytes, 0);
    for (const [label, run, cpu] of [
      [`Pipeline scale ${scale}: source and lake on local disk`, local, s3.pipeline.localCpu],
      [`Pipeline scale ${scale}: **source and lake on MinIO**`, onS3, s3.pipeline.s3Cpu],
    ] as const) {
      if (failed(run)) {
        rows.push(fail(label, run.error));
        continue;
      }
      const isS3 = run === onS3;
      rows.push([
        label,
        megabytes(inputBytes),
        run.status === 'success' ? `**${seconds(run.totalMs)}**` : `❌ ${oneLine(run.error ?? 'failed')}`,
        `${count(Math.round(run.rowsPerSecond))} bronze rows/s`,
        isS3
          ? `≤ ${TARGETS.s3PipelineRatio}× local: ${figures.pipelineRatio === undefined ? '—' : `**${figures.pipelineRatio.toFixed(2)}×** ${figures.pipelineRatio <= TARGETS.s3PipelineRatio ? '✅' : '❌'}`}`
          : '—',
        cores(
          `pipeline on ${run === onS3 ? 'MinIO' : 'local disk'}`,
          run.cpuMs,
          cpu,
          run.totalMs,
          run.cpuMs === undefined ? undefined : { cpuMs: run.cpuMs, wallMs: run.processWallMs },
        ),
        mib(run.maxRssKb),
      ]);
    }
    const { local: localOk, onS3: s3Ok } = s3Figures(s3);
    if (localOk && s3Ok) {
      const differences = headlineDifferences(s3Ok.headline, localOk.headline);
      rows.push([
        `Pipeline scale ${scale}: headline on MinIO = on local disk`,
        '—',
        '—',
        differences.length ? `❌ **MISMATCH**: ${differences.join('; ')}` : '✅ identical',
        '—',
        '—',
        '—',
      ]);
    }
  }
  const rendered = table(
    [
      'Measure',
      'Data',
      'Time',
      'Throughput',
      'Target',
      'CPU: client + MinIO (+ other processes)',
      'Peak RSS',
    ],
    rows,
    ['l', 'r', 'r', 'r', 'l', 'r', 'r'],
  );
  if (!disturbed.length) return [rendered];
  return [
    rendered,
    '',
    '> [!WARNING]',
    `> Other processes on this machine used CPU during: ${disturbed.join('; ')}. Those figures are pessimistic.`,
  ];
}

/** Busy time per kind of store call during one ingest: what dominates, and how much the calls overlap. */
function renderOperations(measure: IngestMeasure): string {
  const wall = Math.max(measure.ingestMs, 1);
  const rows = measure.operations
    .filter((operation) => operation.busyMs >= 1 || operation.calls >= 10)
    .map((operation) => [
      `\`${operation.name}\``,
      count(operation.calls),
      seconds(operation.busyMs),
      `${(operation.calls ? operation.busyMs / operation.calls : 0).toFixed(1)} ms`,
      `${seconds(operation.firstStartMs)} → ${seconds(operation.lastEndMs)}`,
      `${(operation.busyMs / wall).toFixed(2)}`,
    ]);
  const copies = measure.operations.find((operation) => operation.name === 'landing.putFile');
  if (copies) {
    rows.push([
      'after the last landing copy (manifest commit: DuckDB writes Parquet, Delta log put)',
      '—',
      seconds(measure.ingestMs - copies.lastEndMs),
      '—',
      `${seconds(copies.lastEndMs)} → ${seconds(measure.ingestMs)}`,
      '—',
    ]);
  }
  rows.push([
    '**ingest(context)**',
    '—',
    `**${seconds(measure.ingestMs)}**`,
    '—',
    `0 → ${seconds(measure.ingestMs)}`,
    '1.00',
  ]);
  return table(
    ['Store call', 'calls', 'busy (sum)', 'per call', 'span (from ingest start)', 'busy ÷ wall'],
    rows,
  );
}

function renderPipelineTasks(local: MedallionMeasure, onS3: MedallionMeasure): string {
  const localMs = new Map(local.tasks.map((task) => [task.id, task.durationMs]));
  const extra = onS3.totalMs - local.totalMs;
  const line = (label: string, ours: number, theirs: number | undefined) => {
    const delta = theirs === undefined ? undefined : ours - theirs;
    return [
      label,
      theirs === undefined ? '—' : seconds(theirs),
      seconds(ours),
      delta === undefined ? '—' : `${delta >= 0 ? '+' : '−'}${seconds(Math.abs(delta))}`,
      delta === undefined || extra <= 0 ? '—' : `${((100 * delta) / extra).toFixed(0)} %`,
    ];
  };
  const rows = onS3.tasks.map((task) =>
    line(
      `${task.id}${task.status === 'success' ? '' : ` (${task.status})`}`,
      task.durationMs,
      localMs.get(task.id),
    ),
  );
  const outside = (run: MedallionMeasure) =>
    run.totalMs - run.tasks.reduce((sum, task) => sum + task.durationMs, 0);
  rows.push(line('outside tasks (engine start, headline, run summary)', outside(onS3), outside(local)));
  rows.push(line('**total**', onS3.totalMs, local.totalMs));
  return table(['Task', 'local disk', 'MinIO', 'extra', 'share of extra'], rows);
}

const METHOD = [
  '- **Startup**: wall time from spawning `node dist/cli/main.js` to its exit, 15 times after one warm-up start (OS file cache filled, as for a person typing commands), `runs` on an empty SQLite metadata database (migrations checked); the median against the target, the worst shown beside it (`src/bench/startup.ts`).',
  '- **medallion total**: `summary.durationMs` of one `runPipeline` call (landing → bronze → silver → gold → quality_check, Delta commits included) in a child process (`node dist/bench/run-once.js`), on a fresh lake.',
  "- **raw DuckDB floor**: the same transformations as one plain DuckDB script in another child process (`node dist/bench/run-floor.js`, see `src/bench/raw-duckdb-floor.ts`): the three source files read directly (the JSON split to NDJSON with `splitJsonRecords`, the split counted in the floor, then `read_json` in parallel, which is faster than `read_json` of the whole document + `unnest(marches)`, parsed on one thread; `--floor-json document` measures that variant; CSVs with `read_csv(all_varchar = true, ignore_errors = true)`), then the pipeline's own macros, table SQL and refine rules (dedupe, quarantine filter, shape) for the 3 silver and 5 gold tables, each written to Parquet (zstd, partitioned like medallion). No landing copy, bronze tables, Delta log, accounting, quarantine tables or quality checks.",
  '- **Overhead ratio**: medallion total ÷ floor total. **Peak RSS**: `process.resourceUsage().maxRSS` of each child (Node + DuckDB). **Rows per second**: rows appended to the three bronze tables ÷ medallion total seconds.',
  '- Sample data generation is timed separately and is not part of either total. Times are one run each (no warm-up, no repetition); the source files were just written, so they are in the page cache.',
  "- **S3 / MinIO** (`src/bench/s3-transfers.ts`): the large file (random CSV text) and the small files are put in a source bucket first (not timed). **medallion ingest** is the `ingest(context)` call of the runner (`src/runner/ingest.ts`) in a child process (`node dist/bench/run-ingest.js`): list the source, copy each file to the landing bucket with its SHA-256, then one manifest commit (Delta). Source and lake are on one server with the same credentials, so a large file is copied by the server (one `CopyObject` that asks for the SHA-256 of what it writes, S3's additional checksums; the bytes never reach medallion, and bronze checks that SHA-256 again when it reads the landing copy); a small one (≤ 4 MiB) is a GET, a hash and a PUT; source `s3://<bucket>/<prefix>`, lake `s3://<name>-{layer}` (a bucket per layer), a fresh lake and an empty cache each time. MB/s = landed bytes ÷ that time (1 MB = 10^6 bytes); files/s = landed files ÷ that time. Store calls are timed by wrapping the stores (`src/bench/timed-store.ts`); calls overlap, so busy times add up to more than the wall time.",
  '- **Single-stream baseline**: in the benchmark process, one `GetObjectCommand` whose body is streamed to a local file, then one `PutObjectCommand` of that file (a read stream with its length) to another key; `@aws-sdk/client-s3` with `forcePathStyle` and `requestChecksumCalculation`/`responseChecksumValidation` `WHEN_REQUIRED`. Its MB/s is the file size ÷ (GET + PUT time), the same bytes moved as ingest (down once, up once). **CPU**: `process.cpuUsage()` of the client and utime + stime of the MinIO process (`/proc/<pid>/stat`) over the same span; ÷ wall time = cores busy (the machine has 2).',
  '- **Pipeline on MinIO**: `runPipeline` in a child process (`run-once.js --source s3://… --lake s3://<name>-{layer}`) with an empty object cache, beside the same run with source and lake on local disk, both on the same sample data (seed 42), one after the other.',
];
