/** The workers part of BENCHMARKS.md: its rows in the targets table, its problems and its own section. */
import { formatFigure } from './headline.js';
import type { OperationTiming } from './measure.js';
import { SHAPE_TASKS, type NoopShape } from './noop-pipelines.js';
import { oneLine, table } from './report.js';
import { spliceSection } from './splice.js';
import type { FleetCpu } from './worker-fleet.js';
import { noopFailed, WORKER_COUNTS, type NoopRunMeasure } from './workers-noop.js';
import { pipelineFigures, renderPipeline } from './workers-pipeline-report.js';
import { WORKERS_TARGETS, type WorkersReport, type WorkersResult } from './workers.js';

export const WORKERS_HEADING = '## Workers';

const mark = (met: boolean | undefined) => (met === undefined ? '—' : met ? '✅' : '❌');
const ms = (value: number) => `${value < 10 ? value.toFixed(1) : formatFigure(Math.round(value))} ms`;
const perSecond = (tasks: number, spanMs: number) => Math.round(tasks / (spanMs / 1000));
const workerCount = (workers: number) => `${workers} worker${workers === 1 ? '' : 's'}`;
const SHAPES: Record<NoopShape, string> = {
  fan: `fan 1 → ${formatFigure(SHAPE_TASKS.fan - 2)} → 1`,
  chain: `chain of ${SHAPE_TASKS.chain}`,
};

/** The successful runs of one case (by default with the slots the targets are judged on), in order. */
function runsOf(
  result: WorkersResult,
  workers: number,
  shape: NoopShape,
  slots = judgedSlots(result),
): NoopRunMeasure[] {
  return result.noop.filter(
    (outcome): outcome is NoopRunMeasure =>
      !noopFailed(outcome) &&
      outcome.workers === workers &&
      outcome.shape === shape &&
      outcome.slots === slots,
  );
}

const judgedSlots = (result: WorkersResult) => result.slots[0] ?? 0;

/** The figures the targets are judged on: the worst run of each. */
function noopFigures(result: WorkersResult) {
  const fans = runsOf(result, WORKERS_TARGETS.workersForThroughput, 'fan');
  const chains = WORKER_COUNTS.flatMap((workers) => runsOf(result, workers, 'chain'));
  const failures = result.noop.filter(noopFailed).filter((failure) => failure.slots === judgedSlots(result));
  return {
    tasksPerSecond:
      fans.length && !failures.some((failure) => failure.shape === 'fan')
        ? Math.min(...fans.map((run) => perSecond(run.tasks, run.spanMs)))
        : undefined,
    chainP95:
      chains.length && !failures.some((failure) => failure.shape === 'chain')
        ? Math.max(...chains.map((run) => run.queuedToStarted.p95))
        : undefined,
    chainRanP95: Math.max(...chains.map((run) => run.queuedToRan.p95)),
    /** The smallest startedAt − queuedAt of any run: below zero, startedAt came before the task was queued. */
    earliestStart: Math.min(
      ...result.noop.flatMap((outcome) => (noopFailed(outcome) ? [] : [outcome.queuedToStarted.min])),
    ),
  };
}

export function workersProblems(report: WorkersReport | undefined): string[] {
  if (!report || 'skipped' in report) return [];
  const found = report.noop
    .filter(noopFailed)
    .map((failure) => `${workerCount(failure.workers)}, ${failure.shape} failed: ${oneLine(failure.error)}`);
  const { tasksPerSecond, chainP95 } = noopFigures(report);
  if (tasksPerSecond !== undefined && tasksPerSecond < WORKERS_TARGETS.tasksPerSecond)
    found.push(
      `${workerCount(WORKERS_TARGETS.workersForThroughput)}: ${tasksPerSecond} no-op tasks/s, under ${WORKERS_TARGETS.tasksPerSecond}`,
    );
  if (chainP95 !== undefined && chainP95 > WORKERS_TARGETS.queuedToStartedP95Ms)
    found.push(
      `chain: p95 queued → started ${ms(chainP95)}, over ${ms(WORKERS_TARGETS.queuedToStartedP95Ms)}`,
    );
  const pipeline = pipelineFigures(report.pipeline);
  found.push(...pipeline.problems);
  if (pipeline.ratio !== undefined && pipeline.ratio > WORKERS_TARGETS.pipelineRatio)
    found.push(
      `pipeline: 2 workers took ${pipeline.ratio.toFixed(2)}× one process, over ${WORKERS_TARGETS.pipelineRatio}×`,
    );
  return found;
}

/** Rows for the report's targets table. */
export function workersTargetRows(report: WorkersReport | undefined): string[][] {
  const labels = [
    `Workers: ≥ ${WORKERS_TARGETS.tasksPerSecond} no-op tasks/s with ${WORKERS_TARGETS.workersForThroughput} worker processes on PostgreSQL (${formatFigure(SHAPE_TASKS.fan)}-task fan, first start → last end)`,
    `Workers: p95 queued → started ≤ ${WORKERS_TARGETS.queuedToStartedP95Ms} ms (a chain of ${SHAPE_TASKS.chain} no-op tasks: idle workers, a task just queued)`,
    `Workers: example pipeline at scale 10 on MinIO, scheduler + 2 workers within ${WORKERS_TARGETS.pipelineRatio}× of one process`,
  ];
  if (!report || 'skipped' in report) {
    const why = report ? report.skipped : 'not measured';
    return labels.map((label) => [label, `${oneLine(why)} (\`npm run bench -- --workers-only\`)`, '—']);
  }
  const { tasksPerSecond, chainP95, chainRanP95 } = noopFigures(report);
  const pipeline = pipelineFigures(report.pipeline);
  const runs = `worst of ${report.repeats}`;
  return [
    [
      labels[0] ?? '',
      tasksPerSecond === undefined ? 'run failed' : `${formatFigure(tasksPerSecond)} tasks/s (${runs})`,
      tasksPerSecond === undefined ? '❌' : mark(tasksPerSecond >= WORKERS_TARGETS.tasksPerSecond),
    ],
    [
      labels[1] ?? '',
      chainP95 === undefined
        ? 'run failed'
        : `${ms(chainP95)} by the attempts' times (${runs} with 1, 2 and 4 workers); ${ms(chainRanP95)} to the task's own start`,
      chainP95 === undefined ? '❌' : mark(chainP95 <= WORKERS_TARGETS.queuedToStartedP95Ms),
    ],
    [
      labels[2] ?? '',
      pipeline.cell,
      pipeline.ratio === undefined
        ? pipeline.skipped
          ? '—'
          : '❌'
        : mark(pipeline.ratio <= WORKERS_TARGETS.pipelineRatio),
    ],
  ];
}

const HOW =
  'To measure it alone and update this section: `npm run build && node dist/bench/main.js --workers-only` (with ' +
  '`bash scripts/services/postgres.sh start`, and `bash scripts/services/minio.sh start` for the pipeline; found ' +
  'as the other parts find them). `npm run bench` measures it too (`--no-workers` skips it); `--workers-repeats N` ' +
  'and `--workers-slots 8,16` change what is run.';

function method(result: WorkersResult): string[] {
  return [
    `- **No-op tasks** (\`src/bench/workers-noop.ts\`): the scheduling benchmark's fan and chain (\`src/bench/noop-pipelines.ts\`), loaded by every process from a pipeline module; each task does nothing but return the time it was called. For each worker count, a fresh PostgreSQL schema and fresh processes: \`medallion scheduler --no-execute\` and N \`medallion worker --slots ${result.slots.join(' | ')} --single-host\` (single host: the runs name a lake directory, which the tasks never write), default poll interval (1 s) and heartbeat (5 s), so every hand-off rides on LISTEN/NOTIFY; the targets are judged on ${judgedSlots(result)} slots. Once each process has announced itself and its wake-up connection listens, one unmeasured run of the chain (first queries, cold code), then the fan and the chain, each triggered from the benchmark process with \`triggerRun\` (as \`medallion trigger\` does).`,
    "- **Figures**: *tasks/s* = tasks ÷ (the last try's finishedAt − the first try's startedAt) and tasks ÷ (the run's finishedAt − the trigger). *Queued → started* = each attempt's startedAt − queuedAt, as the store records them; *queued → run()* = the time the task's own code was called − queuedAt (the claim's transaction, the dispatch and the try's set-up included). p50/p95 are nearest-rank over the run's tasks. *Claims* = distinct (worker, startedAt) pairs: the tries one claimTasks call took. The targets are judged on the worst run.",
    "- **CPU**: utime + stime (`/proc/<pid>/stat`) of the scheduler, of the workers and of the PostgreSQL backends serving them (each process connects with its own `application_name`), over the run; *other* is what the rest of the machine used meanwhile (`/proc/stat`: the benchmark process polling the run, the server's own processes, and whatever else runs on this shared machine). A run's CPU per task bounds its rate: 2 cores ÷ (CPU ms per task) is the most the machine could do were nothing else running.",
    "- **Where the time goes**: each process is started with `node --import dist/bench/process-profile.js`, which times every metadata store call (the methods of `KyselyMetadataStore`, `wake` being the NOTIFY after a write) and every SQL statement sent (pg's `Client.query`); busy time is summed over calls, which overlap.",
  ];
}

/** The section's lines, heading included. */
export function renderWorkers(report: WorkersReport | undefined, command: string, date: string): string[] {
  const out = [WORKERS_HEADING, ''];
  if (!report || 'skipped' in report) {
    out.push(`Not measured in this run${report ? ` (${report.skipped})` : ''}.`, '', HOW);
    return out;
  }
  const { machine } = report;
  out.push(
    `Made with \`${command}\` on ${date}. Machine: ${machine.cores} cores (${machine.cpuModel}), ` +
      `${(machine.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, ${machine.platform}; Node ${machine.node}. ` +
      `${report.postgres.version} from \`scripts/services/postgres.sh\` (found in ${report.postgres.foundIn}) on loopback, ` +
      `on the same cores as every process measured. Each case was run ${report.repeats} times (the figures of each run, ` +
      'in order, separated by /).',
    '',
    HOW,
    '',
    ...method(report),
    '',
    '### No-op tasks through worker processes',
    '',
    renderNoop(report),
    '',
    ...renderBound(report),
    'The target on the wait for a worker is judged on the chain: there each task is queued alone, when the one before it ends, and idle workers wait for it. In the fan, 998 tasks are queued at once and wait in line for the slots: their queued → started measures the throughput (half of them wait about half the run), not the latency of a hand-off.',
    '',
    `An attempt's startedAt is the time its worker's pass began, before that pass listed the running runs and claimed: a pass already under way when a task is queued claims it with a startedAt from before its queuedAt (the smallest queued → started here: ${ms(noopFigures(report).earliestStart)}), so the attempts' queued → started understates the wait by up to a pass. Queued → run(), from the task's own clock, is the wait as the task sees it: the claim's transaction, the dispatch and the try's set-up included.`,
    '',
  );
  const profile = renderProfile(report);
  if (profile) out.push(...profile, '');
  out.push(...renderPipeline(report), '');
  while (out[out.length - 1] === '') out.pop();
  return out;
}

function renderNoop(result: WorkersResult): string {
  const rows: string[][] = [];
  const cases = (['fan', 'chain'] as const).flatMap((shape) =>
    result.slots.flatMap((slots) => WORKER_COUNTS.map((workers) => ({ shape, slots, workers }))),
  );
  for (const { shape, slots, workers } of cases) {
    const runs = runsOf(result, workers, shape, slots);
    const failures = result.noop
      .filter(noopFailed)
      .filter((failure) => failure.workers === workers && failure.shape === shape && failure.slots === slots);
    const judged = slots === judgedSlots(result);
    if (runs.length === 0 && failures.length === 0) continue;
    const all = (pick: (run: NoopRunMeasure) => string) => runs.map(pick).join(' / ') || '—';
    const target = judged ? targetCell(shape, workers, runs, failures.length === 0) : '—';
    rows.push([
      workerCount(workers),
      String(slots),
      SHAPES[shape],
      all((run) => ms(run.triggerToFirstMs)),
      all((run) => `${(run.triggerToFinishMs / 1000).toFixed(2)} s`),
      `**${all((run) => formatFigure(perSecond(run.tasks, run.spanMs)))}**`,
      all((run) => formatFigure(perSecond(run.tasks, run.triggerToFinishMs))),
      all((run) => `${ms(run.queuedToStarted.p50)} · **${ms(run.queuedToStarted.p95)}**`),
      all((run) => `${ms(run.queuedToRan.p50)} · ${ms(run.queuedToRan.p95)}`),
      all((run) => `${formatFigure(run.claims)} (${(run.tasks / run.claims).toFixed(1)})`),
      all((run) => run.perWorker.join('+')),
      all((run) => cpuCell(run.cpu, run.tasks)),
      target + (failures.length ? ` (${failures.map((failure) => oneLine(failure.error)).join('; ')})` : ''),
    ]);
  }
  return table(
    [
      'Workers',
      'Slots each',
      'Pipeline',
      'Trigger → first task',
      'Trigger → run finished',
      'Tasks/s, first start → last end',
      'Tasks/s, trigger → finished',
      'Queued → started, p50 · p95',
      'Queued → run(), p50 · p95',
      'Claims (tasks per claim)',
      'Tries per worker',
      'CPU per task: scheduler · workers · PostgreSQL · other',
      'Target',
    ],
    rows,
    ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

/** A case's target and whether every run met it ('—' for the cases no target is about). */
function targetCell(shape: NoopShape, workers: number, runs: NoopRunMeasure[], noFailure: boolean): string {
  const every = (met: (run: NoopRunMeasure) => boolean) =>
    mark(runs.length > 0 && noFailure && runs.every(met));
  if (shape === 'chain') {
    const limit = WORKERS_TARGETS.queuedToStartedP95Ms;
    return `p95 ≤ ${limit} ms ${every((run) => run.queuedToStarted.p95 <= limit)}`;
  }
  if (workers !== WORKERS_TARGETS.workersForThroughput) return '—';
  const floor = WORKERS_TARGETS.tasksPerSecond;
  return `≥ ${floor} tasks/s ${every((run) => perSecond(run.tasks, run.spanMs) >= floor)}`;
}

export function cpuCell(cpu: FleetCpu, tasks: number): string {
  const other = Math.max(0, cpu.machine - cpu.scheduler - cpu.workers - cpu.postgres);
  return [cpu.scheduler, cpu.workers, cpu.postgres, other]
    .map((value) => (value / tasks).toFixed(1))
    .join(' · ');
}

/** What the CPU of the fan runs with the target's worker count says about the rate. */
function renderBound(result: WorkersResult): string[] {
  const fans = runsOf(result, WORKERS_TARGETS.workersForThroughput, 'fan');
  if (fans.length === 0) return [];
  const cores = result.machine.cores;
  const own = fans.map((run) => (run.cpu.scheduler + run.cpu.workers + run.cpu.postgres) / run.tasks);
  const all = (values: number[], format: (value: number) => string) => values.map(format).join(' / ');
  return [
    `CPU bound, fan with ${workerCount(WORKERS_TARGETS.workersForThroughput)} of ${judgedSlots(result)} slots: ` +
      `${all(own, (value) => value.toFixed(1))} ms of CPU per task (the scheduler, the workers and their PostgreSQL backends), ` +
      `so at most ${all(own, (value) => formatFigure(Math.round((cores * 1000) / value)))} tasks/s on ${cores} cores were nothing else running ` +
      `(the machine was ${all(
        fans.map((run) => run.cpu.machine / (run.triggerToFinishMs * cores)),
        (value) => `${Math.round(value * 100)} %`,
      )} busy during the runs).`,
    '',
    ...result.slots.slice(1).flatMap((slots) => {
      const other = runsOf(result, WORKERS_TARGETS.workersForThroughput, 'fan', slots);
      if (other.length === 0) return [];
      const perClaim = (runs: NoopRunMeasure[]) =>
        all(
          runs.map((run) => run.tasks / run.claims),
          (value) => value.toFixed(1),
        );
      const cpu = other.map((run) => (run.cpu.scheduler + run.cpu.workers + run.cpu.postgres) / run.tasks);
      return [
        `With ${slots} slots each, the ${workerCount(WORKERS_TARGETS.workersForThroughput)} ran ${all(
          other.map((run) => perSecond(run.tasks, run.spanMs)),
          formatFigure,
        )} tasks/s: ${perClaim(other)} tasks per claim (${perClaim(fans)} with ${judgedSlots(result)}), ` +
          `so fewer claims and passes per task, and ${all(cpu, (value) => value.toFixed(1))} ms of CPU per task.`,
        '',
      ];
    }),
  ];
}

/** Store calls and statements per task in the last fan and chain run with the target's worker count. */
function renderProfile(result: WorkersResult): string[] | undefined {
  const last = (['fan', 'chain'] as const).flatMap((shape) => {
    const runs = runsOf(result, WORKERS_TARGETS.workersForThroughput, shape).filter((run) => run.profile);
    const run = runs[runs.length - 1];
    return run ? [run] : [];
  });
  if (last.length === 0) return undefined;
  const cell = (operation: OperationTiming | undefined, tasks: number): string =>
    operation ? `${(operation.calls / tasks).toFixed(2)} · ${(operation.busyMs / tasks).toFixed(2)} ms` : '—';
  const rows: string[][] = [];
  for (const kind of ['scheduler', 'workers'] as const) {
    for (const part of ['calls', 'statements'] as const) {
      const names = new Map<string, number>();
      for (const run of last)
        for (const operation of run.profile?.[kind][part] ?? [])
          names.set(operation.name, (names.get(operation.name) ?? 0) + operation.busyMs / run.tasks);
      const sorted = [...names.keys()].sort((a, b) => (names.get(b) ?? 0) - (names.get(a) ?? 0));
      const label = (name: string) =>
        part === 'calls' ? `${kind}: \`${name}\`` : `${kind}: SQL \`${name}\``;
      const find = (run: NoopRunMeasure, name: string) =>
        run.profile?.[kind][part].find((operation) => operation.name === name);
      // Calls made less than once per twenty tasks in every run (heartbeats, the run's own start and end) are left out.
      const frequent = (name: string) =>
        last.some((run) => (find(run, name)?.calls ?? 0) / run.tasks >= 0.05);
      for (const name of sorted.filter(frequent))
        rows.push([label(name), ...last.map((run) => cell(find(run, name), run.tasks))]);
      const total = (run: NoopRunMeasure) =>
        (run.profile?.[kind][part] ?? []).reduce((sum, each) => sum + each.calls, 0);
      rows.push([
        `**${kind}: ${part === 'calls' ? 'store calls' : 'SQL statements (round trips)'} per task**`,
        ...last.map((run) => `**${(total(run) / run.tasks).toFixed(1)}**`),
      ]);
    }
  }
  const passes = (run: NoopRunMeasure, kind: 'scheduler' | 'workers', call: string) =>
    run.profile?.[kind].calls.find((operation) => operation.name === call)?.calls ?? 0;
  const passLines = last.map((run) => {
    const scheduler = passes(run, 'scheduler', 'listPipelines');
    const workers = passes(run, 'workers', 'listRuns');
    return (
      `${run.shape}: ${formatFigure(scheduler)} scheduler passes (${(run.cpu.scheduler / Math.max(scheduler, 1)).toFixed(1)} ms of CPU each), ` +
      `${formatFigure(workers)} worker passes for ${formatFigure(run.claims)} claims`
    );
  });
  return [
    `Where the time goes with ${workerCount(WORKERS_TARGETS.workersForThroughput)} of ${judgedSlots(result)} slots (last run of each): store calls and SQL statements per task, summed over the processes of each kind (calls · busy time per task):`,
    '',
    table(
      ['Process: call', ...last.map((run) => `${SHAPES[run.shape]} (${formatFigure(run.tasks)} tasks)`)],
      rows,
    ),
    '',
    `Passes (a scheduler pass reads the pipelines, runs, processes, stale attempts and all the run's task instances; a worker pass lists the running runs, then claims): ${passLines.join('; ')}.`,
  ];
}

/** `markdown` with its workers section and target rows replaced: for `--workers-only` and the full report. */
export function spliceWorkers(markdown: string, section: string[], targetRows: string[][]): string {
  return spliceSection(markdown, { heading: WORKERS_HEADING, section, rowPrefix: '| Workers', targetRows });
}
