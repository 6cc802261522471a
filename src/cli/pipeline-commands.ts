/** The commands about pipelines as a whole: list them (schedule, next run, paused, last runs), pause, unpause. */
import { pipelineOverviews, setPaused, type PipelineOverview } from '../app/pipelines.js';
import { ago, print, when } from './output.js';
import { withApp, type StoreFlags } from './project-context.js';
import { table } from './render.js';

interface DefinitionFlags extends StoreFlags {
  pipeline: string[];
}

function nextRun(entry: PipelineOverview, now: Date): string {
  if (entry.paused) return 'paused';
  if (!entry.nextRunAt) return 'when triggered';
  return Date.parse(entry.nextRunAt) <= now.getTime() ? 'due now' : when(entry.nextRunAt);
}

export async function pipelinesCommand(flags: DefinitionFlags): Promise<void> {
  await withApp(flags, async (ctx) => {
    const now = new Date();
    const entries = await pipelineOverviews(ctx, {
      refs: flags.pipeline,
      flags: { ...(flags.lake && { lake: flags.lake }) },
    });
    print(flags.json, entries, () =>
      table(
        ['pipeline', 'schedule', 'next run', 'last run', 'succeeded', 'lake'],
        entries.map((entry) => [
          entry.name,
          entry.schedule ?? '—',
          nextRun(entry, now),
          entry.lastRun
            ? `${entry.lastRun.state} ${ago(entry.lastRun.finishedAt ?? entry.lastRun.startedAt ?? entry.lastRun.logicalDate, now.getTime())} ago`
            : 'never',
          entry.recent.runs ? `${entry.recent.succeeded}/${entry.recent.runs}` : '—',
          entry.lake ?? '—',
        ]),
        ['schedule', 'next run', 'last run', 'lake'],
      ),
    );
  });
}

export async function setPausedCommand(name: string, flags: DefinitionFlags, paused: boolean): Promise<void> {
  await withApp(flags, async (ctx) => {
    const result = await setPaused(ctx, name, paused, flags.pipeline);
    print(flags.json, result, () =>
      paused
        ? `${name} paused: no new scheduled runs, and queued runs wait`
        : `${name} unpaused: schedulers create and start its runs again`,
    );
  });
}
