/**
 * The commands that read runs, tasks and logs from the metadata store: runs, tasks and logs. Tables for people,
 * `--json` for scripts; exit codes per EXIT.
 */
import { latestAttempts } from '../core/run-state.js';
import { MedallionError } from '../core/errors.js';
import type {
  AttemptRecord,
  MetadataStore,
  RunState,
  TaskInstanceRecord,
} from '../metadata/metadata-store.js';
import { systemClock } from '../orchestrator/clock.js';
import { EXIT } from './exit.js';
import { elapsed, note, print, requireRun, when } from './output.js';
import { withStore, type StoreFlags } from './project-context.js';
import { table } from './render.js';

export const RUN_STATES = [
  'queued',
  'running',
  'success',
  'failed',
  'cancelled',
] as const satisfies readonly RunState[];

// ── runs ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface RunsFlags extends StoreFlags {
  /** Only this pipeline's runs. */
  pipeline?: string;
  state?: RunState;
  limit: number;
}

export async function runsCommand(flags: RunsFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const runs = await store.listRuns({
      ...(flags.pipeline && { pipeline: flags.pipeline }),
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
    task.state === 'cancelled' && !attempt?.reason ? 'its run was stopped before it ran' : undefined,
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
