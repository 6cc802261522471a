/** The scheduling-overhead part of BENCHMARKS.md: its rows in the targets table and its own section. */
import { formatFigure } from './headline.js';
import { oneLine, table } from './report.js';
import { spliceSection } from './splice.js';
import {
  DEFAULT_SCHEDULING_SLOTS,
  SCHEDULING_TARGETS,
  schedulingFailed,
  type SchedulingBackend,
  type SchedulingMeasure,
  type SchedulingResult,
  type SchedulingShape,
} from './scheduling.js';
import { SHAPE_TASKS } from './noop-pipelines.js';

export type SchedulingReport = SchedulingResult | { skipped: string };

export const SCHEDULING_HEADING = '## Scheduling overhead';

const BACKENDS: Record<SchedulingBackend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const SHAPES: Record<SchedulingShape, string> = {
  fan: `fan: 1 → ${formatFigure(SHAPE_TASKS.fan - 2)} → 1`,
  chain: 'chain',
};
const slotCount = (slots: number) => `${slots} slot${slots === 1 ? '' : 's'}`;
const mark = (met: boolean | undefined) => (met === undefined ? '—' : met ? '✅' : '❌');
const ms = (value: number) => `${value < 10 ? value.toFixed(1) : formatFigure(Math.round(value))} ms`;
const perTask = (value: number) => `${value.toFixed(2)} ms`;

export function schedulingProblems(result: SchedulingReport | undefined): string[] {
  if (!result || 'skipped' in result) return [];
  return result.measures
    .filter(schedulingFailed)
    .map(
      (failure) =>
        `${BACKENDS[failure.backend]} ${failure.shape} (${slotCount(failure.slots)}) failed: ${oneLine(failure.error)}`,
    );
}

/** The successful runs of one case. */
function runsOf(
  result: SchedulingResult,
  backend: SchedulingBackend,
  shape: SchedulingShape,
  slots: number,
): SchedulingMeasure[] {
  return result.measures.filter(
    (measure): measure is SchedulingMeasure =>
      !schedulingFailed(measure) &&
      measure.backend === backend &&
      measure.shape === shape &&
      measure.slots === slots,
  );
}

/** The worst of each figure over the runs of the default cases of a backend (the targets are judged on it). */
function worst(result: SchedulingResult, backend: SchedulingBackend) {
  const runs = (['fan', 'chain'] as const).flatMap((shape) =>
    runsOf(result, backend, shape, DEFAULT_SCHEDULING_SLOTS[shape]).map((run) => ({ shape, run })),
  );
  const failures = result.measures.filter(
    (measure) =>
      schedulingFailed(measure) &&
      measure.backend === backend &&
      measure.slots === DEFAULT_SCHEDULING_SLOTS[measure.shape],
  );
  if (runs.length === 0 || failures.length > 0) return undefined;
  const max = (shape: SchedulingShape, pick: (run: SchedulingMeasure) => number) =>
    Math.max(...runs.filter((entry) => entry.shape === shape).map((entry) => pick(entry.run)));
  return {
    perTask: { fan: max('fan', (run) => run.perTaskMs), chain: max('chain', (run) => run.perTaskMs) },
    firstTask: Math.max(...runs.map((entry) => entry.run.firstTaskMs)),
  };
}

/** Rows for the report's targets table. */
export function schedulingTargetRows(result: SchedulingReport | undefined): string[][] {
  const rows: string[][] = [];
  const firstTask: string[] = [];
  let firstTaskMet: boolean | undefined;
  for (const backend of ['sqlite', 'postgres'] as const) {
    const limit = SCHEDULING_TARGETS.perTaskMs[backend];
    const label = `Scheduling overhead on ${BACKENDS[backend]} ≤ ${limit} ms per task (${formatFigure(SHAPE_TASKS.fan)} no-op tasks fanned out and in; a chain of ${SHAPE_TASKS.chain})`;
    const skipped =
      !result || 'skipped' in result
        ? 'not measured (`npm run bench -- --scheduling-only`)'
        : backend === 'postgres' && 'skipped' in result.postgres
          ? 'not measured (no PostgreSQL: `bash scripts/services/postgres.sh start`)'
          : undefined;
    if (skipped || !result || 'skipped' in result) {
      rows.push([label, skipped ?? '', '—']);
      continue;
    }
    const figures = worst(result, backend);
    if (!figures) {
      rows.push([label, 'run failed', '❌']);
      firstTaskMet = false;
      continue;
    }
    rows.push([
      label,
      `fan ${perTask(figures.perTask.fan)} · chain ${perTask(figures.perTask.chain)} (worst of ${result.repeats})`,
      mark(Math.max(figures.perTask.fan, figures.perTask.chain) <= limit),
    ]);
    firstTask.push(`${BACKENDS[backend]} ${ms(figures.firstTask)}`);
    const met = figures.firstTask <= SCHEDULING_TARGETS.firstTaskMs;
    firstTaskMet = firstTaskMet === undefined ? met : firstTaskMet && met;
  }
  rows.push([
    `Scheduling: first task ≤ ${SCHEDULING_TARGETS.firstTaskMs} ms after a trigger`,
    firstTask.length ? `${firstTask.join(' · ')} (worst)` : 'not measured',
    mark(firstTaskMet),
  ]);
  return rows;
}

const HOW =
  'To measure it alone and update this section: `npm run build && node dist/bench/main.js --scheduling-only` ' +
  '(with `bash scripts/services/postgres.sh start` first for PostgreSQL, found from `MEDALLION_TEST_POSTGRES_URL` or ' +
  '`.cache/services/postgres.env`; `bash scripts/services/postgres.sh stop` afterwards). `npm run bench` measures it too ' +
  '(`--no-scheduling` skips it); `--scheduling-repeats N` and `--scheduling-fan-slots 1,4,8` change what is run.';

const METHOD = [
  `- **The pipelines** (\`src/bench/scheduling.ts\`, made with \`definePipeline\`): the fan is one \`start\` task, ${formatFigure(SHAPE_TASKS.fan - 2)} tasks that depend on it and one \`end\` task that depends on all of them; the chain is ${SHAPE_TASKS.chain} tasks, each depending on the one before. Every task does nothing (its TaskRunner's \`run()\` only notes the time), so all the time measured is the orchestrator's: store queries, the state machine, the executor.`,
  '- **The scheduler**: one `Scheduler` (`createScheduledRuns: false`, scoped to the run, default poll interval 1 s and heartbeat 5 s) is started on the store and left idle; then the run is created as `triggerRun` creates it (`createRun` of the run and its task instances in one transaction) and the scheduler is woken with `wake()`, as the process that triggers would. A trigger from another process is seen at the next poll instead, up to the poll interval later.',
  '- **Trigger → first task**: from `createRun` returning to the first `run()` call. **Trigger → run finished**: from the trigger (createRun included) to the pass that records the run finished. **Overhead per task**: that ÷ the number of tasks. The targets are judged on the worst run of the default slot counts.',
  "- **Scheduler passes**: each pass reads the run and all of its task instances, applies the state machine (the tasks it makes ready are queued in one statement) and claims tries for the free slots; a try that ends wakes the scheduler for another pass. A pass therefore costs time in proportion to the run's tasks: a fan scheduled with fewer slots needs more passes (one per task with 1 slot) and pays more per task.",
  "- The machine is shared (other work may run beside the benchmark), so the runs of one case can differ by 2× or more. CPU per task is that of the benchmark process alone (Node, Kysely, better-sqlite3 or pg), not the PostgreSQL server's.",
];

/** The section's lines, heading included. */
export function renderScheduling(
  result: SchedulingReport | undefined,
  command: string,
  date: string,
  cores: number,
): string[] {
  const out = [SCHEDULING_HEADING, ''];
  if (!result || 'skipped' in result) {
    out.push(`Not measured in this run${result ? ` (${result.skipped})` : ''}.`, '', HOW);
    return out;
  }
  const postgres =
    'skipped' in result.postgres
      ? `PostgreSQL not measured (${result.postgres.skipped})`
      : `${result.postgres.version} from \`scripts/services/postgres.sh\` (found in ${result.postgres.foundIn}) on loopback, on the same ${cores} cores`;
  out.push(
    `Made with \`${command}\` on ${date}; SQLite: a file in the OS temp dir (WAL); ${postgres}. ` +
      `Each case was run ${result.repeats} times (the figures of each run, in order, separated by /), every run on a fresh ` +
      'database (a new SQLite file, a new PostgreSQL schema), one after the other in the benchmark process.',
    '',
    HOW,
    '',
    ...METHOD,
    '',
  );
  const cases = new Map<string, { backend: SchedulingBackend; shape: SchedulingShape; slots: number }>();
  for (const measure of result.measures) {
    cases.set(`${measure.backend}/${measure.shape}/${measure.slots}`, {
      backend: measure.backend,
      shape: measure.shape,
      slots: measure.slots,
    });
  }
  const rows: string[][] = [];
  for (const { backend, shape, slots } of cases.values()) {
    const runs = runsOf(result, backend, shape, slots);
    const failures = result.measures
      .filter(schedulingFailed)
      .filter((failure) => failure.backend === backend && failure.shape === shape && failure.slots === slots);
    const all = (pick: (run: SchedulingMeasure) => string) => runs.map(pick).join(' / ') || '—';
    const limit = SCHEDULING_TARGETS.perTaskMs[backend];
    const met =
      failures.length > 0
        ? false
        : runs.every((run) => run.perTaskMs <= limit && run.firstTaskMs <= SCHEDULING_TARGETS.firstTaskMs);
    rows.push([
      BACKENDS[backend],
      `${SHAPES[shape]} (${formatFigure(SHAPE_TASKS[shape])} tasks)`,
      `${slots}${slots === DEFAULT_SCHEDULING_SLOTS[shape] ? ' (default)' : ''}`,
      all((run) => ms(run.triggerMs)),
      all((run) => ms(run.firstTaskMs)),
      all((run) => `${(run.wallMs / 1000).toFixed(2)} s`),
      `**${all((run) => perTask(run.perTaskMs))}**`,
      all((run) => formatFigure(run.ticks)),
      all((run) => perTask(run.cpuMs / run.tasks)),
      `≤ ${limit} ms/task, first ≤ ${SCHEDULING_TARGETS.firstTaskMs} ms ${mark(runs.length ? met : false)}` +
        (failures.length ? ` (${failures.map((failure) => oneLine(failure.error)).join('; ')})` : ''),
    ]);
  }
  out.push(
    table(
      [
        'Store',
        'Pipeline',
        'Slots',
        'Trigger (createRun)',
        'Trigger → first task',
        'Trigger → run finished',
        'Overhead per task',
        'Scheduler passes',
        'CPU per task (this process)',
        'Target',
      ],
      rows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    '',
  );
  const profile = renderCalls(result);
  if (profile) {
    out.push(
      'Where the time goes: metadata store calls per task in the last run of each default case ' +
        '(calls, then busy time per task: the time from call to settled promise, summed; calls overlap when ' +
        'several tries run at once, so busy time can exceed the overhead):',
      '',
      profile,
    );
  }
  while (out[out.length - 1] === '') out.pop();
  return out;
}

function renderCalls(result: SchedulingResult): string | undefined {
  const last = (['sqlite', 'postgres'] as const).flatMap((backend) =>
    (['fan', 'chain'] as const).flatMap((shape) => {
      const runs = runsOf(result, backend, shape, DEFAULT_SCHEDULING_SLOTS[shape]);
      const run = runs[runs.length - 1];
      return run ? [run] : [];
    }),
  );
  if (!last.length) return undefined;
  const busy = new Map<string, number>();
  for (const run of last) {
    for (const operation of run.operations) {
      busy.set(operation.name, (busy.get(operation.name) ?? 0) + operation.busyMs / run.tasks);
    }
  }
  const names = [...busy.keys()].sort((a, b) => (busy.get(b) ?? 0) - (busy.get(a) ?? 0));
  const rows = names.map((name) => [
    `\`${name}\``,
    ...last.map((run) => {
      const operation = run.operations.find((entry) => entry.name === name);
      return operation
        ? `${(operation.calls / run.tasks).toFixed(2)} · ${(operation.busyMs / run.tasks).toFixed(2)} ms`
        : '—';
    }),
  ]);
  rows.push(['**overhead per task** (for scale)', ...last.map((run) => `**${perTask(run.perTaskMs)}**`)]);
  return table(
    ['Store call', ...last.map((run) => `${BACKENDS[run.backend]} ${run.shape} (${slotCount(run.slots)})`)],
    rows,
  );
}

/** `markdown` with its scheduling section and target rows replaced: for `--scheduling-only`. */
export function spliceScheduling(markdown: string, section: string[], targetRows: string[][]): string {
  return spliceSection(markdown, {
    heading: SCHEDULING_HEADING,
    section,
    rowPrefix: '| Scheduling',
    targetRows,
  });
}
