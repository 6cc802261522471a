/** The example pipeline through worker processes, in BENCHMARKS.md's workers section. */
import { formatHeadline, headlineDifferences } from './headline.js';
import { oneLine, table } from './report.js';
import type { Executors } from './worker-fleet.js';
import {
  criticalPath,
  describeExecutors,
  PIPELINE_EXECUTORS,
  pipelineFailed,
  type PipelineRunMeasure,
  type WorkersPipelineResult,
} from './workers-pipeline.js';
import { WORKERS_TARGETS, type WorkersResult } from './workers.js';
import { seconds } from './format.js';

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

function runsOf(result: WorkersPipelineResult, executors: Executors): PipelineRunMeasure[] {
  return result.measures.filter(
    (measure): measure is PipelineRunMeasure => !pipelineFailed(measure) && measure.executors === executors,
  );
}

/** The ratio the target is judged on (mean of the runs), the targets table's cell, and what went wrong. */
export function pipelineFigures(pipeline: WorkersResult['pipeline']): {
  ratio?: number;
  cell: string;
  skipped?: boolean;
  problems: string[];
} {
  if ('skipped' in pipeline)
    return { cell: `not measured (${oneLine(pipeline.skipped)})`, skipped: true, problems: [] };
  if ('error' in pipeline)
    return { cell: 'run failed', problems: [`pipeline through workers failed: ${oneLine(pipeline.error)}`] };
  const problems = pipeline.measures
    .filter(pipelineFailed)
    .map((failure) => `pipeline, ${describeExecutors(failure.executors)}, failed: ${oneLine(failure.error)}`);
  const one = runsOf(pipeline, 'scheduler');
  const reference = one[0]?.headline ?? null;
  for (const run of PIPELINE_EXECUTORS.flatMap((executors) => runsOf(pipeline, executors))) {
    const differences = headlineDifferences(run.headline, reference);
    if (differences.length)
      problems.push(
        `pipeline, ${describeExecutors(run.executors)}: HEADLINE MISMATCH ${differences.join('; ')}`,
      );
  }
  const two = runsOf(pipeline, 2);
  if (one.length === 0 || two.length === 0 || problems.length > 0) return { cell: 'run failed', problems };
  const ratio = mean(two.map((run) => run.wallMs)) / mean(one.map((run) => run.wallMs));
  return {
    ratio,
    cell: `${ratio.toFixed(2)}× (${seconds(mean(two.map((run) => run.wallMs)))} vs ${seconds(mean(one.map((run) => run.wallMs)))}, mean of ${Math.min(one.length, two.length)})`,
    problems,
  };
}

export function renderPipeline(report: WorkersResult): string[] {
  const out = ['### The example pipeline through worker processes', ''];
  const pipeline = report.pipeline;
  if ('skipped' in pipeline || 'error' in pipeline) {
    out.push(
      'skipped' in pipeline ? `Not measured: ${pipeline.skipped}.` : `Failed: ${oneLine(pipeline.error)}.`,
    );
    return out;
  }
  const s3 = report.s3;
  out.push(
    `medallion_data_pipeline at scale ${pipeline.scale} (sample data of seed 42), source and lake on MinIO` +
      (s3 ? ` (${s3.version ?? 'MinIO'} at ${s3.endpoint}, found in ${s3.foundIn})` : '') +
      `, metadata on PostgreSQL; every executing process with \`--slots ${pipeline.slots} --memory-limit ${pipeline.memoryLimit}\`, its own object cache (empty) and its own temp directory (DuckDB's scratch), as on a machine of its own. ` +
      'For each run: a fresh schema, a fresh lake (a bucket per layer), fresh processes; the run is triggered from the benchmark process once they listen, and timed from the trigger to the run recorded as finished.',
    '',
  );
  const oneMs = runsOf(pipeline, 'scheduler').map((run) => run.wallMs);
  const rows = PIPELINE_EXECUTORS.map((executors) => {
    const runs = runsOf(pipeline, executors);
    const failures = pipeline.measures
      .filter(pipelineFailed)
      .filter((failure) => failure.executors === executors);
    const all = (pick: (run: PipelineRunMeasure) => string) => runs.map(pick).join(' / ') || '—';
    const average = runs.length ? mean(runs.map((run) => run.wallMs)) : undefined;
    const ratio = average !== undefined && oneMs.length ? average / mean(oneMs) : undefined;
    const target =
      executors === 2 && ratio !== undefined
        ? ` (≤ ${WORKERS_TARGETS.pipelineRatio}× ${ratio <= WORKERS_TARGETS.pipelineRatio ? '✅' : '❌'})`
        : '';
    return [
      describeExecutors(executors),
      all((run) => seconds(run.wallMs)),
      average === undefined ? '—' : `**${seconds(average)}**`,
      ratio === undefined ? '—' : `**${ratio.toFixed(2)}×**${target}`,
      all((run) => tasksByProcess(run)),
      all((run) => seconds(run.tasks.reduce((sum, task) => sum + task.durationMs, 0))),
      all((run) => {
        const own = run.cpu.scheduler + run.cpu.workers;
        const other = Math.max(0, run.cpu.machine - own - run.cpu.postgres);
        return [own, run.cpu.postgres, other].map((value) => (value / 1000).toFixed(1)).join(' · ');
      }),
      failures.length
        ? `failed: ${failures.map((failure) => oneLine(failure.error)).join('; ')}`
        : all((run) =>
            headlineDifferences(run.headline, runsOf(pipeline, 'scheduler')[0]?.headline ?? null).length
              ? '❌'
              : '✅',
          ),
    ];
  });
  out.push(
    table(
      [
        'Processes',
        'Trigger → run finished',
        'Mean',
        '÷ one process',
        'Tasks run by each process',
        'Sum of task times',
        'CPU, s: medallion processes · PostgreSQL · other',
        'Headline = one process’s',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    '',
  );
  const headline = runsOf(pipeline, 'scheduler')[0]?.headline;
  if (headline) out.push(`Headline of every run: ${formatHeadline(headline)}.`, '');
  out.push(...scaling(pipeline));
  return out;
}

function tasksByProcess(run: PipelineRunMeasure): string {
  const counts = new Map<string, number>();
  for (const task of run.tasks) counts.set(task.ranOn, (counts.get(task.ranOn) ?? 0) + 1);
  return [...counts.entries()].map(([name, count]) => `${name} ${count}`).join(', ');
}

/** How the graph would spread over machines, from the task times of the one-process runs. */
function scaling(pipeline: WorkersPipelineResult): string[] {
  const runs = runsOf(pipeline, 'scheduler');
  if (runs.length === 0) return [];
  const durations = new Map<string, number>();
  for (const task of pipeline.graph) {
    const times = runs.flatMap((run) =>
      run.tasks.filter((each) => each.id === task.id).map((each) => each.durationMs),
    );
    durations.set(task.id, times.length ? mean(times) : 0);
  }
  const path = criticalPath(pipeline.graph, durations);
  const bronze = pipeline.graph.filter((task) => task.id.startsWith('bronze.')).map((task) => task.id);
  const placement = runsOf(pipeline, 2)
    .map((run) => bronze.map((id) => run.tasks.find((task) => task.id === id)?.ranOn ?? '?').join(' '))
    .join(' / ');
  return [
    `On more machines: the graph is ingest → the sources' ${bronze.length} bronze tables → their silver tables → ` +
      'gold.active_companies_with_contracts_2022 → four gold summaries → quality_check. ' +
      `With the one-process runs' task times (mean), at most ${path.widest} tasks run at once (the branches of the sources side by side, then the summaries), ` +
      `the tasks add up to ${seconds(path.totalMs)} and the longest chain is ${seconds(path.ms)}: ${path.path.join(' → ')}. ` +
      `More than ${path.widest} machines would find nothing to do, and even with a machine per task the run cannot take less than that chain ` +
      '(each of its tasks would then have a whole machine, so it would be shorter than measured here, where the tasks running at once share the cores). ' +
      'Distribution adds per task a claim and a hand-off through PostgreSQL (milliseconds) and, on each worker, its own DuckDB database per run and its own ' +
      "reads of the lake's files from S3 (its cache is its own): the cost measured here.",
    '',
    `A worker claims as many queued tasks as it has free slots. Which process ran ${bronze.join(', ')} in the 2-worker runs: ${placement || '—'}. ` +
      `With ${pipeline.slots} slots, the first worker to hear that the bronze tasks are queued takes them all, and the work only spreads over the workers as later tasks are queued while slots are busy. ` +
      'On machines of their own, where one DuckDB task already uses every core, `--slots 1` per worker would spread the branches over the machines.',
  ];
}
