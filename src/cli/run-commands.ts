/**
 * The commands that create or change runs for schedulers to execute: trigger, backfill, clear and cancel. They
 * write to the metadata store only; a scheduler (`medallion scheduler` or `medallion serve`) or the `medallion
 * run` process that owns a run executes it.
 */
import os from 'node:os';
import { parseParamPairs } from '../core/params.js';
import { isRunFinished } from '../core/run-state.js';
import type { MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { systemClock } from '../orchestrator/clock.js';
import { failAbandonedRuns, liveSchedulers } from '../orchestrator/liveness.js';
import { backfill, clearRun, triggerRun } from '../orchestrator/run-control.js';
import { EXIT } from './exit.js';
import { ago, note, print, requireRun, toInstant, when } from './output.js';
import { table } from './render.js';
import { findPipeline, withStore, type StoreFlags } from './project-context.js';

/** How long a process may be silent before it is taken for gone, as schedulers assume by default. */
const STALE_AFTER_MS = 30_000;

interface DefinitionFlags extends StoreFlags {
  /** Pipeline names or module files (repeatable); default: the project's pipelines. */
  pipeline: string[];
}

// ── trigger ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface TriggerFlags extends DefinitionFlags {
  source?: string;
  param: string[];
  logicalDate?: string;
  force: boolean;
  wait: boolean;
  pollMs: number;
}

/**
 * Waits for the run to end. Says at once when no live scheduler runs its pipeline (and again if the last one
 * goes), and ends runs abandoned by a dead `medallion run` process that it comes across.
 */
async function waitForRun(store: MetadataStore, runId: string, pollMs: number): Promise<RunRecord> {
  let warned = false;
  for (;;) {
    const run = await requireRun(store, runId);
    if (isRunFinished(run.state)) return run;
    const now = new Date();
    await failAbandonedRuns(store, await store.listRuns({ states: ['queued', 'running'] }), {
      now,
      staleAfterMs: STALE_AFTER_MS,
    });
    const live = run.owner === null && (await liveSchedulers(store, run.pipeline, now, STALE_AFTER_MS));
    if (live && live.length === 0 && !warned) {
      note(await noSchedulerMessage(store, run.pipeline));
      warned = true;
    } else if (live && live.length > 0) warned = false;
    await systemClock.sleep(pollMs);
  }
}

async function noSchedulerMessage(store: MetadataStore, pipeline: string): Promise<string> {
  const last = (await store.listProcesses({ includeStopped: true })).find(
    (record) =>
      (record.kind === 'scheduler' || record.kind === 'serve') &&
      record.pipelines.some((loaded) => loaded.name === pipeline),
  );
  const seen = last
    ? `no scheduler running ${pipeline} has been seen for ${ago(last.stoppedAt ?? last.heartbeatAt)}`
    : `no scheduler has ever run ${pipeline} on this database`;
  return `${seen}; start one with \`medallion scheduler\` or use \`medallion run\` (still waiting: Ctrl-C to stop)`;
}

export async function triggerCommand(name: string, flags: TriggerFlags): Promise<void> {
  await withStore(flags, async (store, project) => {
    const pipeline = await findPipeline(project, name, flags.pipeline);
    const run = await triggerRun(store, pipeline, {
      params: parseParamPairs(flags.param),
      ...(flags.logicalDate && { logicalDate: toInstant(flags.logicalDate) }),
      force: flags.force,
      now: new Date(),
      locations: project.requireLocations(pipeline, flags),
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

// ── backfill ────────────────────────────────────────────────────────────────────────────────────────────────

export interface BackfillFlags extends DefinitionFlags {
  source?: string;
  from: string;
  to: string;
  param: string[];
  force: boolean;
}

export async function backfillCommand(name: string, flags: BackfillFlags): Promise<void> {
  await withStore(flags, async (store, project) => {
    const pipeline = await findPipeline(project, name, flags.pipeline);
    const runs = await backfill(store, pipeline, toInstant(flags.from), toInstant(flags.to), new Date(), {
      params: parseParamPairs(flags.param),
      force: flags.force,
      locations: project.requireLocations(pipeline, flags),
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
              `first, one at a time per lake (at most ${pipeline.schedule?.maxActiveRuns ?? 1} at once)`,
          ].join('\n'),
    );
  });
}

// ── clear ───────────────────────────────────────────────────────────────────────────────────────────────────

export interface ClearFlags extends DefinitionFlags {
  task: string[];
}

export async function clearCommand(runId: string, flags: ClearFlags): Promise<void> {
  await withStore(flags, async (store, project) => {
    const run = await requireRun(store, runId);
    const pipeline = await findPipeline(project, run.pipeline, flags.pipeline);
    const cleared = await clearRun(
      store,
      pipeline,
      runId,
      flags.task.length > 0 ? { tasks: flags.task } : {},
    );
    const where = run.locations ? ` (its lake: ${run.locations.lake})` : '';
    print(flags.json, { runId, cleared }, () =>
      cleared.length === 0
        ? `nothing to clear in ${runId}: no failed or cancelled task${flags.task.length > 0 ? ' among those named' : ''}`
        : `cleared in ${runId}: ${cleared.join(', ')}; the run is queued for a scheduler again${where}`,
    );
  });
}

// ── cancel ──────────────────────────────────────────────────────────────────────────────────────────────────

export interface CancelFlags extends StoreFlags {
  wait: boolean;
  pollMs: number;
}

/**
 * Asks the run to stop, wherever it runs: its tries stop at their next heartbeat and its scheduler ends it
 * `cancelled`. When no live process will (its owner is gone, no scheduler runs its pipeline), ends it here.
 */
export async function cancelCommand(runId: string, flags: CancelFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const before = await requireRun(store, runId);
    if (isRunFinished(before.state)) {
      print(flags.json, before, () => `${runId} has already finished: ${before.state}`);
      return;
    }
    const reason = `cancelled by ${os.userInfo().username}@${os.hostname()}`;
    let run =
      (await store.requestStop(runId, { state: 'cancelled', reason }, new Date().toISOString())) ?? before;
    if (!isRunFinished(run.state) && !(await someoneWillFinish(store, run))) {
      await store.endRun(runId, { state: 'cancelled', reason, finishedAt: new Date().toISOString() });
      run = await requireRun(store, runId);
    }
    while (flags.wait && !isRunFinished(run.state)) {
      await systemClock.sleep(flags.pollMs);
      run = await requireRun(store, runId);
    }
    print(flags.json, run, () =>
      isRunFinished(run.state)
        ? `${runId} ${run.state}: ${run.stop?.reason ?? ''}`
        : `${runId} is stopping: its running tasks stop at their next heartbeat (\`medallion tasks ${runId}\`)`,
    );
  });
}

/** Whether a live process will bring the stopping run to its end. */
async function someoneWillFinish(store: MetadataStore, run: RunRecord): Promise<boolean> {
  const now = new Date();
  if (run.owner !== null) {
    return (await failAbandonedRuns(store, [run], { now, staleAfterMs: STALE_AFTER_MS })).length === 0;
  }
  return (await liveSchedulers(store, run.pipeline, now, STALE_AFTER_MS)).length > 0;
}
