/** The commands about pipelines as a whole: list them (schedule, next run, paused, last runs), pause, unpause. */
import { describeSchedule, nextRunAt } from '../core/schedule.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import type { MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { registerPipelines, scheduleOf } from '../orchestrator/run-control.js';
import type { Project } from '../project/project.js';
import { ago, print, when } from './output.js';
import { findPipeline, withStore, type StoreFlags } from './project-context.js';
import { table } from './render.js';

interface DefinitionFlags extends StoreFlags {
  pipeline: string[];
}

/** Runs looked at for the success rate. */
const RECENT = 20;

interface PipelineOverview {
  name: string;
  description: string | null;
  schedule: string | null;
  nextRunAt: string | null;
  paused: boolean;
  lake: string | null;
  lastRun: Pick<RunRecord, 'id' | 'state' | 'trigger' | 'logicalDate' | 'startedAt' | 'finishedAt'> | null;
  recent: { runs: number; succeeded: number; failed: number };
}

async function overview(
  store: MetadataStore,
  project: Project,
  pipeline: PipelineDefinition,
  now: Date,
  flags: { lake?: string },
): Promise<PipelineOverview> {
  const schedule = scheduleOf(pipeline);
  const record = await store.getPipeline(pipeline.name);
  const runs = await store.listRuns({ pipeline: pipeline.name, limit: RECENT });
  const last = await store.latestLogicalDate(pipeline.name, ['schedule']);
  const finished = runs.filter((run) => run.finishedAt !== null);
  const lastRun = [...runs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
  return {
    name: pipeline.name,
    description: pipeline.description ?? null,
    schedule: schedule ? describeSchedule(schedule.spec) : null,
    nextRunAt:
      schedule && !record?.paused
        ? nextRunAt(schedule, last === undefined ? undefined : new Date(last), now).toISOString()
        : null,
    paused: record?.paused ?? false,
    lake: project.locations(pipeline, flags)?.lake ?? null,
    lastRun: lastRun
      ? {
          id: lastRun.id,
          state: lastRun.state,
          trigger: lastRun.trigger,
          logicalDate: lastRun.logicalDate,
          startedAt: lastRun.startedAt,
          finishedAt: lastRun.finishedAt,
        }
      : null,
    recent: {
      runs: finished.length,
      succeeded: finished.filter((run) => run.state === 'success').length,
      failed: finished.filter((run) => run.state === 'failed').length,
    },
  };
}

function nextRun(entry: PipelineOverview, now: Date): string {
  if (entry.paused) return 'paused';
  if (!entry.nextRunAt) return 'when triggered';
  return Date.parse(entry.nextRunAt) <= now.getTime() ? 'due now' : when(entry.nextRunAt);
}

export async function pipelinesCommand(flags: DefinitionFlags): Promise<void> {
  await withStore(flags, async (store, project) => {
    const now = new Date();
    const entries = await Promise.all(
      (await project.pipelines(flags.pipeline)).map((pipeline) =>
        overview(store, project, pipeline, now, flags),
      ),
    );
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
  await withStore(flags, async (store, project) => {
    // A pipeline no scheduler has registered yet is registered from its definition, so it can start paused.
    if (!(await store.getPipeline(name))) {
      await registerPipelines(store, [await findPipeline(project, name, flags.pipeline)]);
    }
    await store.setPaused(name, paused);
    print(flags.json, { pipeline: name, paused }, () =>
      paused
        ? `${name} paused: no new scheduled runs, and queued runs wait`
        : `${name} unpaused: schedulers create and start its runs again`,
    );
  });
}
