/**
 * The commands that create or change runs for schedulers to execute: trigger, backfill, clear and cancel. They
 * write to the metadata store only; a scheduler (`medallion scheduler` or `medallion serve`) or the `medallion
 * run` process that owns a run executes it.
 */
import type { EngineKind } from '../core/pipeline.js';
import {
  backfillPipeline,
  cancelRun,
  clearRunTasks,
  requireRun,
  triggerPipeline,
  waitForRun,
} from '../app/runs.js';
import { parseParamPairs } from '../core/params.js';
import { isRunFinished } from '../core/run-state.js';
import { systemClock } from '../orchestrator/clock.js';
import { EXIT } from './exit.js';
import { note, print, toInstant, when } from './output.js';
import { withApp, type StoreFlags } from './project-context.js';
import { table } from './render.js';

interface DefinitionFlags extends StoreFlags {
  /** Pipeline names or module files (repeatable); default: the project's pipelines. */
  pipeline: string[];
}

export interface TriggerFlags extends DefinitionFlags {
  source?: string;
  engine?: EngineKind;
  param: string[];
  logicalDate?: string;
  force: boolean;
  fullRefresh: boolean;
  wait: boolean;
  pollMs: number;
}

export async function triggerCommand(name: string, flags: TriggerFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const run = await triggerPipeline(ctx, name, {
      params: parseParamPairs(flags.param),
      ...(flags.logicalDate && { logicalDate: toInstant(flags.logicalDate) }),
      force: flags.force,
      fullRefresh: flags.fullRefresh,
      refs: flags.pipeline,
      ...(flags.lake && { lake: flags.lake }),
      ...(flags.source && { source: flags.source }),
      ...(flags.engine && { engine: flags.engine }),
    });
    if (await ctx.store.isPaused(name))
      note(`${name} is paused: the run waits until \`medallion unpause ${name}\``);
    if (!flags.wait) {
      print(flags.json, run, () => run.id);
      note(`queued ${run.id}: a scheduler (\`medallion scheduler\` or \`medallion serve\`) runs it`);
      return;
    }
    if (!flags.json) process.stdout.write(`${run.id}\n`);
    const finished = await waitForRun(ctx.store, run.id, { pollMs: flags.pollMs, notice: note });
    if (flags.json) print(true, finished, () => '');
    note(`${finished.id} ${finished.state}: see \`medallion tasks ${finished.id}\``);
    process.exitCode = finished.state === 'success' ? EXIT.ok : EXIT.runFailed;
  });
}

export interface BackfillFlags extends DefinitionFlags {
  source?: string;
  from: string;
  to: string;
  param: string[];
  force: boolean;
}

export async function backfillCommand(name: string, flags: BackfillFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const { pipeline, runs } = await backfillPipeline(ctx, name, {
      from: toInstant(flags.from),
      to: toInstant(flags.to),
      params: parseParamPairs(flags.param),
      force: flags.force,
      refs: flags.pipeline,
      ...(flags.lake && { lake: flags.lake }),
      ...(flags.source && { source: flags.source }),
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

export interface ClearFlags extends DefinitionFlags {
  task: string[];
}

export async function clearCommand(runId: string, flags: ClearFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const { run, cleared } = await clearRunTasks(ctx, runId, { tasks: flags.task, refs: flags.pipeline });
    const where = run.locations ? ` (its lake: ${run.locations.lake})` : '';
    print(flags.json, { runId, cleared }, () =>
      cleared.length === 0
        ? `nothing to clear in ${runId}: no failed or cancelled task${flags.task.length > 0 ? ' among those named' : ''}`
        : `cleared in ${runId}: ${cleared.join(', ')}; the run is queued for a scheduler again${where}`,
    );
  });
}

export interface CancelFlags extends StoreFlags {
  wait: boolean;
  pollMs: number;
}

export async function cancelCommand(runId: string, flags: CancelFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const cancelled = await cancelRun(ctx, runId);
    let run = cancelled.run;
    if (cancelled.already) {
      print(flags.json, run, () => `${runId} has already finished: ${run.state}`);
      return;
    }
    while (flags.wait && !isRunFinished(run.state)) {
      await systemClock.sleep(flags.pollMs);
      run = await requireRun(ctx.store, runId);
    }
    print(flags.json, run, () =>
      isRunFinished(run.state)
        ? `${runId} ${run.state}: ${run.stop?.reason ?? ''}`
        : `${runId} is stopping: its running tasks stop at their next heartbeat (\`medallion tasks ${runId}\`)`,
    );
  });
}
