/** Pipelines as people look at them: schedule, next and last runs, their tasks and the tables they make; pausing. */
import { buildTaskGraph, referencedTables, tableKey } from '../core/graph.js';
import type { ParamDefinition, PipelineDefinition } from '../core/pipeline.js';
import { describeSchedule, nextRunAt } from '../core/schedule.js';
import type { RunLocations, RunRecord } from '../metadata/metadata-store.js';
import { registerPipelines, scheduleOf } from '../orchestrator/run-control.js';
import type { LocationFlags } from '../project/project.js';
import type { AppContext } from './context.js';
import { findPipeline } from './runs.js';

/** Runs looked at for the success rate. */
const RECENT = 20;

export type RunBrief = Pick<
  RunRecord,
  'id' | 'state' | 'trigger' | 'logicalDate' | 'startedAt' | 'finishedAt'
>;

export interface PipelineOverview {
  name: string;
  description: string | null;
  schedule: string | null;
  nextRunAt: string | null;
  paused: boolean;
  lake: string | null;
  lastRun: RunBrief | null;
  /** The latest runs, newest first (at most 20). */
  recentRuns: RunBrief[];
  recent: { runs: number; succeeded: number; failed: number };
}

function brief(run: RunRecord): RunBrief {
  const { id, state, trigger, logicalDate, startedAt, finishedAt } = run;
  return { id, state, trigger, logicalDate, startedAt, finishedAt };
}

async function overview(
  ctx: AppContext,
  pipeline: PipelineDefinition,
  now: Date,
  flags: LocationFlags,
): Promise<PipelineOverview> {
  const schedule = scheduleOf(pipeline);
  const record = await ctx.store.getPipeline(pipeline.name);
  const runs = await ctx.store.listRuns({ pipeline: pipeline.name, limit: RECENT });
  const last = await ctx.store.latestLogicalDate(pipeline.name, ['schedule']);
  const finished = runs.filter((run) => run.finishedAt !== null);
  const byCreation = [...runs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  return {
    name: pipeline.name,
    description: pipeline.description ?? null,
    schedule: schedule ? describeSchedule(schedule.spec) : null,
    nextRunAt:
      schedule && !record?.paused
        ? nextRunAt(schedule, last === undefined ? undefined : new Date(last), now).toISOString()
        : null,
    paused: record?.paused ?? false,
    lake: ctx.project.locations(pipeline, flags)?.lake ?? null,
    lastRun: byCreation[0] ? brief(byCreation[0]) : null,
    recentRuns: byCreation.map(brief),
    recent: {
      runs: finished.length,
      succeeded: finished.filter((run) => run.state === 'success').length,
      failed: finished.filter((run) => run.state === 'failed').length,
    },
  };
}

export async function pipelineOverviews(
  ctx: AppContext,
  options: { refs?: readonly string[]; flags?: LocationFlags } = {},
): Promise<PipelineOverview[]> {
  const now = new Date();
  const pipelines = await ctx.project.pipelines(options.refs ?? []);
  const flags = { ...ctx.locations, ...options.flags };
  return Promise.all(pipelines.map((pipeline) => overview(ctx, pipeline, now, flags)));
}

/** A node of a pipeline's table lineage: a source's files, or a table. */
export interface LineageNode {
  id: string;
  kind: 'source' | 'table';
  layer: 'source' | 'bronze' | 'silver' | 'gold';
  name: string;
  /** The task that writes it (none for a source's files). */
  task: string | null;
}

export interface PipelineDetail extends PipelineOverview {
  params: Record<string, ParamDefinition>;
  locations: RunLocations | null;
  tasks: { id: string; kind: string; dependsOn: string[]; table: string | null }[];
  lineage: { nodes: LineageNode[]; edges: { from: string; to: string }[] };
}

/** Everything a pipeline page shows: the overview, its parameters, its task graph and its table lineage. */
export async function pipelineDetail(ctx: AppContext, name: string): Promise<PipelineDetail> {
  const pipeline = await findPipeline(ctx, name);
  const summary = await overview(ctx, pipeline, new Date(), ctx.locations ?? {});
  return {
    ...summary,
    params: pipeline.params ?? {},
    locations: ctx.project.locations(pipeline, ctx.locations) ?? null,
    tasks: tasksOf(pipeline),
    lineage: lineageOf(pipeline),
  };
}

/** The task graph: each task with those it depends on, and the table it writes. */
export function tasksOf(pipeline: PipelineDefinition): PipelineDetail['tasks'] {
  return buildTaskGraph(pipeline).map((task) => ({
    id: task.id,
    kind: task.kind,
    dependsOn: task.dependsOn,
    table: task.output ? tableKey(task.output) : null,
  }));
}

/** Sources → bronze → silver → gold, as Dagster draws assets: each table with the tables its SQL reads. */
export function lineageOf(pipeline: PipelineDefinition): PipelineDetail['lineage'] {
  const nodes: LineageNode[] = [];
  const edges: { from: string; to: string }[] = [];
  for (const source of pipeline.sources) {
    const bronze = `bronze.${source.bronzeTable}`;
    nodes.push({
      id: `source.${source.name}`,
      kind: 'source',
      layer: 'source',
      name: source.pattern,
      task: null,
    });
    nodes.push({ id: bronze, kind: 'table', layer: 'bronze', name: source.bronzeTable, task: bronze });
    edges.push({ from: `source.${source.name}`, to: bronze });
  }
  for (const table of pipeline.tables) {
    const id = `${table.layer}.${table.name}`;
    nodes.push({ id, kind: 'table', layer: table.layer, name: table.name, task: id });
    for (const input of referencedTables(table)) {
      if (input.layer !== 'quarantine') edges.push({ from: tableKey(input), to: id });
    }
  }
  return { nodes, edges };
}

export async function setPaused(
  ctx: AppContext,
  name: string,
  paused: boolean,
  refs: readonly string[] = [],
): Promise<{ pipeline: string; paused: boolean }> {
  // A pipeline no scheduler has registered yet is registered from its definition, so it can start paused.
  if (!(await ctx.store.getPipeline(name))) {
    await registerPipelines(ctx.store, [await findPipeline(ctx, name, refs)]);
  }
  await ctx.store.setPaused(name, paused);
  return { pipeline: name, paused };
}
