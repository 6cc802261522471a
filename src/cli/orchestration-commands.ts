/**
 * The commands that act on schedules and runs: trigger, runs, tasks, logs, pause, unpause, backfill and clear.
 * They read and write the metadata store only; a scheduler (`medallion scheduler` or `medallion serve`)
 * executes the runs. Tables for people, `--json` for scripts; exit codes per EXIT.
 */
import { latestAttempts } from '../core/run-state.js';
import { MedallionError } from '../core/errors.js';
import { parseParamPairs } from '../core/params.js';
import type {
  AttemptRecord,
  MetadataStore,
  RunRecord,
  RunState,
  TaskInstanceRecord,
} from '../metadata/metadata-store.js';
import { systemClock } from '../orchestrator/clock.js';
import { backfill, clearRun, registerPipelines, triggerRun } from '../orchestrator/run-control.js';
import { EXIT, fail } from './exit.js';
import { findPipeline, loadPipelines, openDb } from './orchestration.js';
import { seconds, table } from './render.js';

export const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const satisfies readonly RunState[];

export interface StoreFlags {
  db?: string;
  json?: boolean;
}

interface DefinitionFlags extends StoreFlags {
  /** Pipeline modules (repeatable); default: the shipped pipelines. */
  pipeline?: string[];
}

/** Opens the store, does the work, closes the store; any error exits as fail() says. */
export async function withStore(
  flags: StoreFlags,
  work: (store: MetadataStore) => Promise<void>,
): Promise<void> {
  try {
    const store = await openDb(flags.db);
    try {
      await work(store);
    } finally {
      await store.close();
    }
  } catch (error) {
    fail(error);
  }
}

/** One JSON document on stdout for scripts, or the text for people. */
export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** `YYYY-MM-DD` → midnight UTC; an ISO instant as given. */
function toInstant(value: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
}

/** An ISO timestamp for a table: `2024-05-01 06:00:00`, just the date at midnight (UTC), `—` for none. */
function when(iso: string | null, dateOnlyAtMidnight = false): string {
  if (!iso) return '—';
  const text = iso.slice(0, 19).replace('T', ' ');
  return dateOnlyAtMidnight && text.endsWith(' 00:00:00') ? text.slice(0, 10) : text;
}

function elapsed(startedAt: string | null, finishedAt: string | null): string {
  if (!startedAt) return '—';
  const end = finishedAt ? Date.parse(finishedAt) : Date.now();
  return `${seconds(end - Date.parse(startedAt))}${finishedAt ? '' : ' …'}`;
}

export async function requireRun(store: MetadataStore, runId: string): Promise<RunRecord> {
  const run = await store.getRun(runId);
  if (!run) {
    throw new MedallionError(`no run ${runId}`, {
      context: { field: 'RUN' },
      hint: 'list runs with `medallion runs` (and check --db)',
    });
  }
  return run;
}

function isFinished(run: RunRecord): boolean {
  return run.state === 'success' || run.state === 'failed';
}

// ── trigger ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface TriggerFlags extends DefinitionFlags {
  param: string[];
  logicalDate?: string;
  force: boolean;
  wait: boolean;
  pollMs: number;
}

async function waitForRun(store: MetadataStore, runId: string, pollMs: number): Promise<RunRecord> {
  for (;;) {
    const run = await requireRun(store, runId);
    if (isFinished(run)) return run;
    await systemClock.sleep(pollMs);
  }
}

export async function triggerCommand(name: string, flags: TriggerFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const pipeline = findPipeline(await loadPipelines(flags.pipeline), name);
    const run = await triggerRun(store, pipeline, {
      params: parseParamPairs(flags.param),
      ...(flags.logicalDate && { logicalDate: toInstant(flags.logicalDate) }),
      force: flags.force,
      now: new Date(),
    });
    if (await store.isPaused(name))
      note(`${name} is paused: the run waits until \`medallion unpause ${name}\``);
    if (!flags.wait) {
      print(flags.json, run, () => run.id);
      note(`queued ${run.id}: a scheduler (\`medallion scheduler\` or \`medallion serve\`) runs it`);
      return;
    }
    if (!flags.json) process.stdout.write(`${run.id}\n`);
    const finished = await waitForRun(store, run.id, flags.pollMs);
    if (flags.json) print(true, finished, () => '');
    note(`${finished.id} ${finished.state}: see \`medallion tasks ${finished.id}\``);
    process.exitCode = finished.state === 'success' ? EXIT.ok : EXIT.runFailed;
  });
}

// ── runs ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface RunsFlags extends StoreFlags {
  pipelineName?: string;
  state?: RunState;
  limit: number;
}

export async function runsCommand(flags: RunsFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const runs = await store.listRuns({
      ...(flags.pipelineName && { pipeline: flags.pipelineName }),
      ...(flags.state && { states: [flags.state] }),
      limit: flags.limit,
    });
    print(flags.json, runs, () =>
      runs.length === 0
        ? 'no runs'
        : table(
            ['run', 'pipeline', 'logical date', 'trigger', 'state', 'started', 'duration'],
            runs.map((run) => [
              run.id,
              run.pipeline,
              when(run.logicalDate, true),
              run.trigger,
              run.state,
              when(run.startedAt),
              elapsed(run.startedAt, run.finishedAt),
            ]),
            ['pipeline', 'trigger', 'state'],
          ),
    );
  });
}

// ── tasks ───────────────────────────────────────────────────────────────────────────────────────────────────

/** Each task with its latest attempt, in the order they first started (those not started yet last). */
function tasksWithLatestAttempt(
  instances: TaskInstanceRecord[],
  attempts: AttemptRecord[],
): (TaskInstanceRecord & { latestAttempt: AttemptRecord | null })[] {
  const latest = latestAttempts(attempts);
  const firstStart = new Map<string, string>();
  for (const attempt of attempts) {
    const first = firstStart.get(attempt.taskId);
    if (!first || attempt.startedAt < first) firstStart.set(attempt.taskId, attempt.startedAt);
  }
  // ISO timestamps sort as text; '~' sorts after any of them.
  const order = (taskId: string): string => firstStart.get(taskId) ?? '~';
  return [...instances]
    .sort((a, b) => (order(a.taskId) < order(b.taskId) ? -1 : order(a.taskId) > order(b.taskId) ? 1 : 0))
    .map((instance) => ({ ...instance, latestAttempt: latest.get(instance.taskId) ?? null }));
}

function taskReason(task: TaskInstanceRecord, attempt: AttemptRecord | null): string {
  const reasons = [
    attempt?.reason,
    task.state === 'upstream_failed' ? 'a task it depends on failed' : undefined,
    task.state === 'up_for_retry' && task.nextTryAt ? `next try at ${when(task.nextTryAt)}` : undefined,
  ];
  return reasons.filter(Boolean).join('; ');
}

export async function tasksCommand(runId: string, flags: StoreFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const run = await requireRun(store, runId);
    const tasks = tasksWithLatestAttempt(
      await store.listTaskInstances(runId),
      await store.listAttempts(runId),
    );
    print(flags.json, { run, tasks }, () =>
      [
        `${run.pipeline} ${run.id}: ${run.state} (logical date ${when(run.logicalDate, true)}, ${run.trigger})`,
        table(
          ['task', 'state', 'try', 'duration', 'reason'],
          tasks.map((task) => [
            task.taskId,
            task.state,
            `${task.tryNumber}/${task.maxTries}`,
            task.latestAttempt ? elapsed(task.latestAttempt.startedAt, task.latestAttempt.finishedAt) : '—',
            taskReason(task, task.latestAttempt),
          ]),
          ['state', 'reason'],
        ),
      ].join('\n'),
    );
  });
}

// ── logs ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface LogsFlags extends StoreFlags {
  attempt?: number;
  follow: boolean;
  pollMs: number;
}

const AWAITING_A_TRY = new Set(['scheduled', 'queued', 'up_for_retry']);

/**
 * The attempt asked for, by default the latest; with --follow (and no --attempt), a task waiting for a try (first
 * one, retry, or after a clear) is waited for until that try starts.
 */
async function findAttempt(
  store: MetadataStore,
  runId: string,
  taskId: string,
  flags: LogsFlags,
): Promise<AttemptRecord> {
  let announced = false;
  for (;;) {
    // The instance before its attempts: a try claimed in between is then among the attempts.
    const instance = await store.getTaskInstance(runId, taskId);
    if (!instance) {
      throw new MedallionError(`run ${runId} has no task ${taskId}`, {
        context: { field: 'TASK' },
        hint: `list its tasks with \`medallion tasks ${runId}\``,
      });
    }
    const attempts = await store.listAttempts(runId, taskId);
    if (flags.attempt !== undefined) {
      const asked = attempts.find((attempt) => attempt.attempt === flags.attempt);
      if (asked) return asked;
      throw new MedallionError(`task ${taskId} of run ${runId} has no attempt ${flags.attempt}`, {
        context: { field: '--attempt' },
        hint: `it has made ${attempts.length} attempt(s) so far`,
      });
    }
    const awaiting = AWAITING_A_TRY.has(instance.state);
    if (!flags.follow || !awaiting) {
      const latest = attempts.at(-1);
      if (latest) return latest;
      throw new MedallionError(`task ${taskId} of run ${runId} has not run (${instance.state})`, {
        hint: awaiting ? 'add --follow to wait for its first try' : undefined,
      });
    }
    const next = attempts.find((attempt) => attempt.attempt > instance.tryNumber);
    if (next) return next;
    if (!announced) {
      const at = instance.nextTryAt ? `, not before ${when(instance.nextTryAt)}` : '';
      note(`waiting for try ${instance.tryNumber + 1} of ${taskId} (${instance.state}${at})`);
      announced = true;
    }
    await systemClock.sleep(flags.pollMs);
  }
}

export async function logsCommand(runId: string, taskId: string, flags: LogsFlags): Promise<void> {
  await withStore(flags, async (store) => {
    await requireRun(store, runId);
    let attempt = await findAttempt(store, runId, taskId, flags);
    const lines: string[] = [];
    let after = 0;
    /** Every line stored after `after`, page by page. */
    const readNew = async (): Promise<void> => {
      for (;;) {
        const page = await store.readLog(runId, taskId, attempt.attempt, after, 1000);
        if (page.lines.length === 0) return;
        after = page.nextLine;
        if (flags.json) lines.push(...page.lines);
        else process.stdout.write(page.lines.map((line) => `${line}\n`).join(''));
      }
    };
    for (;;) {
      // The state is read before the lines: a try's last lines are stored before it is marked finished.
      const current = (await store.listAttempts(runId, taskId)).find((a) => a.attempt === attempt.attempt);
      attempt = current ?? attempt;
      await readNew();
      if (!flags.follow || attempt.state !== 'running') break;
      await systemClock.sleep(flags.pollMs);
    }
    if (flags.json) {
      const { attempt: number, state, worker, startedAt, finishedAt, reason } = attempt;
      print(
        true,
        { runId, taskId, attempt: number, state, worker, startedAt, finishedAt, reason, lines },
        () => '',
      );
    }
    if (flags.follow && attempt.state === 'failed') process.exitCode = EXIT.runFailed;
  });
}

// ── pause, unpause ──────────────────────────────────────────────────────────────────────────────────────────

export async function setPausedCommand(name: string, flags: DefinitionFlags, paused: boolean): Promise<void> {
  await withStore(flags, async (store) => {
    // A pipeline no scheduler has registered yet is registered from its definition, so it can start paused.
    if (!(await store.getPipeline(name))) {
      await registerPipelines(store, [findPipeline(await loadPipelines(flags.pipeline), name)]);
    }
    await store.setPaused(name, paused);
    print(flags.json, { pipeline: name, paused }, () =>
      paused
        ? `${name} paused: no new scheduled runs, and queued runs wait`
        : `${name} unpaused: schedulers create and start its runs again`,
    );
  });
}

// ── backfill ────────────────────────────────────────────────────────────────────────────────────────────────

export interface BackfillFlags extends DefinitionFlags {
  from: string;
  to: string;
  param: string[];
  force: boolean;
}

export async function backfillCommand(name: string, flags: BackfillFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const pipeline = findPipeline(await loadPipelines(flags.pipeline), name);
    const runs = await backfill(store, pipeline, toInstant(flags.from), toInstant(flags.to), new Date(), {
      params: parseParamPairs(flags.param),
      force: flags.force,
    });
    const created = runs.filter((entry) => entry.created).length;
    print(flags.json, runs, () =>
      runs.length === 0
        ? `no interval of ${name}'s schedule starts between ${flags.from} and ${flags.to}`
        : [
            table(
              ['run', 'logical date', 'state', 'backfill'],
              runs.map(({ run, created }) => [
                run.id,
                when(run.logicalDate, true),
                run.state,
                created ? 'created' : 'existing',
              ]),
              ['state', 'backfill'],
            ),
            `${created} run(s) created, ${runs.length - created} already there; a scheduler runs them oldest ` +
              `first, at most ${pipeline.schedule?.maxActiveRuns ?? 1} at once`,
          ].join('\n'),
    );
  });
}

// ── clear ───────────────────────────────────────────────────────────────────────────────────────────────────

export interface ClearFlags extends DefinitionFlags {
  task: string[];
}

export async function clearCommand(runId: string, flags: ClearFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const run = await requireRun(store, runId);
    const pipeline = findPipeline(await loadPipelines(flags.pipeline), run.pipeline);
    const cleared = await clearRun(
      store,
      pipeline,
      runId,
      flags.task.length > 0 ? { tasks: flags.task } : {},
    );
    print(flags.json, { runId, cleared }, () =>
      cleared.length === 0
        ? `nothing to clear in ${runId}: no failed task${flags.task.length > 0 ? ' among those named' : ''}`
        : `cleared in ${runId}: ${cleared.join(', ')}; the run is queued for a scheduler again`,
    );
  });
}
