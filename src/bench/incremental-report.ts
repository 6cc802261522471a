/** The incremental runs part of BENCHMARKS.md: time per run with incremental silver and with full rebuilds. */
import type { IncrementalReport, IncrementalRun, RefreshMode } from './incremental.js';
import { table } from './report.js';
import { spliceWithCautions } from './splice.js';
import { seconds } from './format.js';

export const INCREMENTAL_HEADING = '## Incremental runs';
const ROW_PREFIX = '| Incremental';
/** From the issue: the last incremental run within 1.3× the first. */
export const INCREMENTAL_TARGET = 1.3;

const count = (n: number) => n.toLocaleString('en-US');

/** Time of the gold tasks of a run, summed. */
const goldMs = (run: IncrementalRun) =>
  Object.entries(run.tasks).reduce((sum, [id, ms]) => (id.startsWith('gold.') ? sum + ms : sum), 0);
const taskMs = (run: IncrementalRun, id: string) => run.tasks[id] ?? 0;

/** The last run ÷ the first run that added a file (run 1), by process wall. */
export function growth(report: IncrementalReport, mode: RefreshMode): number | undefined {
  const runs = report.runs[mode];
  const [first, last] = [runs[1], runs.at(-1)];
  return first && last && first !== last ? last.processWallMs / first.processWallMs : undefined;
}

/** The mean of the last `count` runs ÷ the mean of runs 1 to `count`: steadier than two single runs. */
export function growthOfMeans(report: IncrementalReport, mode: RefreshMode, count = 3): number | undefined {
  const runs = report.runs[mode].slice(1);
  if (runs.length < 2 * count) return undefined;
  const mean = (some: readonly IncrementalRun[]) =>
    some.reduce((sum, run) => sum + run.processWallMs, 0) / some.length;
  return mean(runs.slice(-count)) / mean(runs.slice(0, count));
}

const times = (value: number | undefined) => (value === undefined ? '—' : `${value.toFixed(2)}×`);

/** Contract records in bronze after each run. */
function bronzeContracts(report: IncrementalReport): number[] {
  let total = report.input[0]?.records ?? 0;
  return [total, ...report.batches.map((batch) => (total += batch.records))];
}

/** Tasks by mean duration over the runs that added a file, longest first. */
function heaviest(runs: readonly IncrementalRun[], take: number): string {
  const added = runs.slice(1);
  const ids = [...new Set(added.flatMap((run) => Object.keys(run.tasks)))];
  const mean = (id: string) =>
    added.reduce((sum, run) => sum + taskMs(run, id), 0) / Math.max(1, added.length);
  return ids
    .sort((a, b) => mean(b) - mean(a))
    .slice(0, take)
    .map((id) => `${id} ${seconds(mean(id))}`)
    .join(', ');
}

function goldShare(run: IncrementalRun | undefined): string {
  return run && run.totalMs > 0 ? `${((goldMs(run) / run.totalMs) * 100).toFixed(0)} %` : '—';
}

export function renderIncremental(report: IncrementalReport, command: string, date: string): string[] {
  const { incremental, full } = report.runs;
  const last = incremental.length - 1;
  const [batch] = report.batches;
  const contracts = bronzeContracts(report);
  const lines = [
    INCREMENTAL_HEADING,
    '',
    `Made with \`${command}\` on ${date}; load average (1 min) ${report.loadAverage.before.toFixed(2)} before, ${report.loadAverage.after.toFixed(2)} after (on 2 cores, a load above 1 slows every figure). The issue's configuration — a lake of scale 10, then 20 runs each adding a contracts file of scale 1 — is the default: \`npm run build && node dist/bench/main.js --incremental-only\` (\`--incremental-start\`, \`--incremental-runs\`, \`--incremental-step\` for a quicker check).`,
    '',
    `- **The lake** starts with one run over sample data of scale ${report.startScale} (seed 42: ${report.input.map((file) => `${file.name} ${count(file.records)} records`).join(', ')}). Then ${report.batches.length} runs each add a new contracts file of scale ${report.stepScale} (\`src/demo-data/contract-batch.ts\`): ${count(batch?.newContracts ?? 0)} contracts of the same dataset that no earlier file held (same buyers and establishments, published later in the year) and ${count(batch?.republished ?? 0)} republished copies of earlier contracts (a later publication date and, half the time, a revised montant), so merges replace rows: ${report.republishedFrom === 'previous' ? "contracts of the file before, as the generated file's own republications come a few hundred records after the first publication (`--incremental-republished-from any` draws them from every contract before)" : 'any contract before the file (`--incremental-republished-from any`)'}.`,
    `- **Incremental**: \`medallion_data_pipeline\` as it ships (its silver tables \`incremental: true\`). **Full rebuild**: the same runs with \`fullRefresh\` (\`medallion run --full-refresh\`), on a lake of its own. Every run is \`node dist/bench/run-once.js\` with \`--db sqlite:…\` (the lake's run history, so unchanged tasks skip as they do for \`medallion run\`), memory limit ${report.memoryLimit}; the two modes alternate run by run.`,
    `- **Run**: the child process's wall time, spawn to exit. **silver.marches_publics**, **gold** (its 5 tasks summed) and **quality_check**: the tasks' durations. **Its records**: the bronze records the task refined, and the earlier winners new records replaced. **Its rows written**: rows of the run's commits to silver.marches_publics (a merge rewrites every data file holding a replaced key, copy-on-write), of the rows in its new version, and the data files those commits replaced.`,
    '',
  ];
  const rows = incremental.map((run, index) => {
    const other = full[index];
    return [
      run.run === 0 ? `0 (scale ${report.startScale})` : `${run.run}`,
      count(contracts[index] ?? 0),
      `**${seconds(run.processWallMs)}**`,
      seconds(taskMs(run, 'silver.marches_publics')),
      `${count(run.recordsIn)} in, ${count(run.replaced)} replaced`,
      `${count(run.silverRowsWritten)} of ${count(run.silverRows)} (${run.silverFilesRemoved} of ${run.silverFiles} files replaced)`,
      seconds(goldMs(run)),
      seconds(taskMs(run, 'quality_check')),
      other ? `**${seconds(other.processWallMs)}**` : '—',
      other ? seconds(taskMs(other, 'silver.marches_publics')) : '—',
      other ? seconds(goldMs(other)) : '—',
    ];
  });
  const incrementalGrowth = growth(report, 'incremental');
  const fullGrowth = growth(report, 'full');
  const ratio = (mode: RefreshMode, pick: (run: IncrementalRun) => number) => {
    const runs = report.runs[mode];
    const [first, end] = [runs[1], runs.at(-1)];
    return first && end && pick(first) > 0 ? `${(pick(end) / pick(first)).toFixed(2)}×` : '—';
  };
  rows.push([
    `**run ${last} ÷ run 1**`,
    '',
    `**${ratio('incremental', (run) => run.processWallMs)}**`,
    ratio('incremental', (run) => taskMs(run, 'silver.marches_publics')),
    '',
    ratio('incremental', (run) => run.silverRowsWritten),
    ratio('incremental', goldMs),
    ratio('incremental', (run) => taskMs(run, 'quality_check')),
    `**${ratio('full', (run) => run.processWallMs)}**`,
    ratio('full', (run) => taskMs(run, 'silver.marches_publics')),
    ratio('full', goldMs),
  ]);
  lines.push(
    table(
      [
        'Run',
        'Contract records in bronze',
        'Incremental: run',
        'silver.marches_publics',
        'its records',
        'its rows written',
        'gold',
        'quality_check',
        'Full rebuild: run',
        'silver.marches_publics',
        'gold',
      ],
      rows,
    ),
    '',
    `Run ${last} ÷ run 1: incremental ${times(incrementalGrowth)} (target ≤ ${INCREMENTAL_TARGET}×), full rebuilds ${times(fullGrowth)}; the mean of the last three runs ÷ the mean of runs 1–3, steadier on a shared machine where one run varies by 10–20 %: incremental ${times(growthOfMeans(report, 'incremental'))}, full rebuilds ${times(growthOfMeans(report, 'full'))}; while the contracts in bronze grew ${contracts[1] && contracts.at(-1) ? `${(contracts.at(-1)! / contracts[1]).toFixed(2)}×` : '—'}. Gold is recomputed from all of silver every run: ${goldShare(incremental[1])} of runPipeline's time in incremental run 1, ${goldShare(incremental.at(-1))} in run ${last}. The longest tasks of the incremental runs (mean over runs 1–${last}): ${heaviest(incremental, 5)}; of the full rebuilds: ${heaviest(full, 5)}.`,
  );
  return lines;
}

export function incrementalTargetRows(report: IncrementalReport): string[][] {
  const value = growth(report, 'incremental');
  const full = growth(report, 'full');
  const last = report.runs.incremental.length - 1;
  return [
    [
      `Incremental runs: run ${last} within ${INCREMENTAL_TARGET}× of run 1 (each adds a scale-${report.stepScale} contracts file to a lake of scale ${report.startScale})`,
      `${times(value)} (3-run means: ${times(growthOfMeans(report, 'incremental'))}; full rebuilds: ${times(full)})`,
      value !== undefined && value <= INCREMENTAL_TARGET ? '✅' : '❌',
    ],
  ];
}

/** Runs that failed. */
export function incrementalProblems(report: IncrementalReport): string[] {
  return (['incremental', 'full'] as const).flatMap((mode) =>
    report.runs[mode]
      .filter((run) => run.status !== 'success')
      .map((run) => `${mode} run ${run.run} ${run.status}${run.error ? `: ${run.error}` : ''}`),
  );
}

export function spliceIncremental(
  markdown: string,
  report: IncrementalReport,
  command: string,
  date: string,
): string {
  return spliceWithCautions(markdown, {
    heading: INCREMENTAL_HEADING,
    section: renderIncremental(report, command, date),
    rowPrefix: ROW_PREFIX,
    targetRows: incrementalTargetRows(report),
    cautionPrefix: 'incremental',
    problems: incrementalProblems(report),
  });
}
