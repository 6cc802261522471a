/**
 * The commands that read runs, tasks and logs from the metadata store: runs, tasks and logs. Tables for people,
 * `--json` for scripts; exit codes per EXIT.
 */
import { readTryLog } from '../app/logs.js';
import { requireRun, runDetail } from '../app/runs.js';
import type { AttemptRecord, RunState } from '../metadata/metadata-store.js';
import { EXIT } from './exit.js';
import { elapsed, note, print, when } from './output.js';
import { withApp, withStore, type StoreFlags } from './project-context.js';
import { table } from './render.js';

export { RUN_STATES } from '../app/runs.js';

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

export async function tasksCommand(runId: string, flags: StoreFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const { run, tasks } = await runDetail(ctx, runId);
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
            task.reason,
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

export async function logsCommand(runId: string, taskId: string, flags: LogsFlags): Promise<void> {
  await withStore(flags, async (store) => {
    await requireRun(store, runId);
    const lines: string[] = [];
    let last: AttemptRecord | undefined;
    for await (const chunk of readTryLog(store, {
      runId,
      taskId,
      ...(flags.attempt !== undefined && { attempt: flags.attempt }),
      follow: flags.follow,
      pollMs: flags.pollMs,
      onWaiting: note,
    })) {
      last = chunk.attempt;
      if (flags.json) lines.push(...chunk.lines);
      else if (chunk.lines.length > 0) process.stdout.write(chunk.lines.map((line) => `${line}\n`).join(''));
    }
    if (!last) return;
    if (flags.json) {
      const { attempt: number, state, worker, startedAt, finishedAt, reason } = last;
      print(
        true,
        { runId, taskId, attempt: number, state, worker, startedAt, finishedAt, reason, lines },
        () => '',
      );
    }
    if (flags.follow && last.state === 'failed') process.exitCode = EXIT.runFailed;
  });
}
