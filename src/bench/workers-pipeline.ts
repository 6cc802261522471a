/**
 * The example pipeline through worker processes (issue 11, speed): medallion_data_pipeline at scale 10 with its
 * source and lake on MinIO and its metadata on PostgreSQL, run by one `medallion scheduler` that executes its
 * tasks itself, then by a `--no-execute` scheduler with 1 and with 2 `medallion worker`s. Every run is triggered
 * from here on fresh processes, a fresh schema, a fresh lake and empty object caches; each process has its own
 * cache and temp directory, as it would on a machine of its own.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { planTasks } from '../core/task-plan.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { triggerRun } from '../orchestrator/run-control.js';
import { shippedPipeline } from '../project/pipelines.js';
import type { RunSummary } from '../runner/run-summary.js';
import { s3EnvFor, type TestS3Server } from '../services/test-s3-server.js';
import { TestSchemas } from '../testing/postgres.js';
import type { Headline } from './headline.js';
import { clientFor, removeBuckets } from '../services/s3-admin.js';
import { sampleData, uploadSample, type SampleData } from './s3-buckets.js';
import { Fleet, type Executors, type FleetCpu } from './worker-fleet.js';
import { untilFinished } from './workers-noop.js';

export const PIPELINE_EXECUTORS: readonly Executors[] = ['scheduler', 1, 2];

export interface PipelineTaskTime {
  id: string;
  /** Which process ran it (its name in the fleet: scheduler, w1, w2). */
  ranOn: string;
  durationMs: number;
  /** From queued to claimed. */
  waitMs: number;
}

export interface PipelineRunMeasure {
  executors: Executors;
  round: number;
  /** From the trigger to the run recorded as finished. */
  wallMs: number;
  headline: Headline;
  tasks: PipelineTaskTime[];
  cpu: FleetCpu;
}

export interface PipelineRunFailure {
  executors: Executors;
  round: number;
  error: string;
}

export interface WorkersPipelineResult {
  scale: number;
  /** Slots of each process that executes. */
  slots: number;
  memoryLimit: string;
  measures: (PipelineRunMeasure | PipelineRunFailure)[];
  /** Each task's dependencies, to find the longest chain of the graph. */
  graph: { id: string; dependsOn: string[] }[];
}

export function pipelineFailed(value: PipelineRunMeasure | PipelineRunFailure): value is PipelineRunFailure {
  return 'error' in value;
}

export interface PipelineBenchOptions {
  server: TestS3Server;
  postgresUrl: string;
  work: string;
  scale: number;
  sample: SampleData | undefined;
  memoryLimit: string;
  slots: number;
  repeats: number;
  logicalDate: string;
  log: (message: string) => void;
}

const RUN_LIMIT_MS = 600_000;

export async function benchPipelineWorkers(options: PipelineBenchOptions): Promise<WorkersPipelineResult> {
  const { log } = options;
  const work = path.join(options.work, 'workers-pipeline');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const client = clientFor(options.server);
  const prefix = `mbench-wk-${Date.now().toString(36)}`;
  const schemas = new TestSchemas(options.postgresUrl);
  const pipeline = await shippedPipeline('medallion_data_pipeline');
  const measures: WorkersPipelineResult['measures'] = [];
  try {
    const sample = await sampleData(options.scale, options.sample, work, (line) => log(`workers: ${line}`));
    await client.send(new CreateBucketCommand({ Bucket: `${prefix}-src` }));
    const source = `s3://${prefix}-src/pipeline`;
    await uploadSample(options.server, work, sample, source, (line) => log(`workers: ${line}`));
    for (let round = 1; round <= options.repeats; round += 1) {
      for (const executors of PIPELINE_EXECUTORS) {
        const label = `workers: pipeline scale ${options.scale}, ${describeExecutors(executors)} #${round}`;
        const lake = `${prefix}-${executors === 'scheduler' ? 's' : `w${executors}`}-${round}`;
        try {
          const measure = await oneRun(options, pipeline, schemas, { executors, round, source, lake, work });
          measures.push(measure);
          log(`${label}: ${(measure.wallMs / 1000).toFixed(2)} s trigger → run finished`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          measures.push({ executors, round, error: message });
          log(`${label}: FAILED: ${message}`);
        } finally {
          await removeBuckets(client, `${lake}-`);
        }
      }
    }
  } finally {
    await removeBuckets(client, `${prefix}-`).catch(() => undefined);
    client.destroy();
    await schemas.dropAll();
    await rm(work, { recursive: true, force: true });
  }
  return {
    scale: options.scale,
    slots: options.slots,
    memoryLimit: options.memoryLimit,
    measures,
    graph: planTasks(pipeline).map((task) => ({ id: task.id, dependsOn: [...task.dependsOn] })),
  };
}

export function describeExecutors(executors: Executors): string {
  return executors === 'scheduler'
    ? 'one process (scheduler executing)'
    : `scheduler --no-execute + ${executors} worker${executors === 1 ? '' : 's'}`;
}

async function oneRun(
  options: PipelineBenchOptions,
  pipeline: PipelineDefinition,
  schemas: TestSchemas,
  where: { executors: Executors; round: number; source: string; lake: string; work: string },
): Promise<PipelineRunMeasure> {
  const { executors, round } = where;
  const dir = path.join(where.work, `${executors}-${round}`);
  await mkdir(dir, { recursive: true });
  const database = schemas.url(schemas.name(`pipeline_${executors}_${round}`));
  const config = path.join(dir, 'medallion.config.json');
  await writeFile(config, JSON.stringify({ database, pipelines: { [pipeline.name]: {} } }));
  const names = [
    'scheduler',
    ...Array.from({ length: executors === 'scheduler' ? 0 : executors }, (_, i) => `w${i + 1}`),
  ];
  for (const name of names) await mkdir(path.join(dir, `${name}-tmp`));
  let fleet: Fleet | undefined;
  let store: MetadataStore | undefined;
  try {
    store = await openMetadataStore(database);
    fleet = await Fleet.start({
      config,
      database,
      executors,
      executorArgs: ['--slots', String(options.slots), '--memory-limit', options.memoryLimit],
      // As on machines of their own: each process its own object cache and temp directory (DuckDB's scratch).
      env: (name) => ({
        ...s3EnvFor(options.server, path.join(dir, `${name}-cache`)),
        TMPDIR: path.join(dir, `${name}-tmp`),
      }),
      tag: `mbench_${process.pid}_pl_${executors}_${round}`,
    });
    const before = await fleet.sample();
    const triggeredAt = Date.now();
    const created = await triggerRun(store, pipeline, {
      now: new Date(triggeredAt),
      logicalDate: new Date(`${options.logicalDate}T00:00:00Z`),
      locations: { source: where.source, lake: `s3://${where.lake}-{layer}` },
    });
    const run = await untilFinished(store, created.id, fleet, RUN_LIMIT_MS);
    const cpu = Fleet.cpuBetween(before, await fleet.sample());
    const summary = run.summary as RunSummary | null;
    if (run.state !== 'success') {
      throw new Error(`the run ${run.state}: ${summary?.error ?? 'see its tasks'}\n${fleet.output()}`);
    }
    const ranOn = new Map(fleet.members.map((member) => [member.workerId, member.name]));
    const attempts = await store.listAttempts(created.id);
    return {
      executors,
      round,
      wallMs: Date.parse(run.finishedAt ?? '') - triggeredAt,
      headline: summary?.headline ?? null,
      tasks: attempts.map((attempt) => ({
        id: attempt.taskId,
        ranOn: ranOn.get(attempt.worker) ?? attempt.worker,
        durationMs: Date.parse(attempt.finishedAt ?? '') - Date.parse(attempt.startedAt),
        waitMs: Date.parse(attempt.startedAt) - Date.parse(attempt.queuedAt ?? ''),
      })),
      cpu,
    };
  } finally {
    await fleet?.stop();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * With a machine for every task that can run: the longest chain of tasks (by the durations given) bounds the run,
 * and the most tasks running at once says how many machines could be kept busy.
 */
export function criticalPath(
  graph: readonly { id: string; dependsOn: readonly string[] }[],
  durationMs: ReadonlyMap<string, number>,
): { ms: number; path: string[]; totalMs: number; widest: number } {
  const end = new Map<string, { ms: number; path: string[] }>();
  const start = new Map<string, number>();
  for (const task of graph) {
    // planTasks lists a task after its dependencies.
    const before = task.dependsOn
      .map((id) => end.get(id) ?? { ms: 0, path: [] })
      .reduce((longest, each) => (each.ms > longest.ms ? each : longest), { ms: 0, path: [] as string[] });
    start.set(task.id, before.ms);
    end.set(task.id, { ms: before.ms + (durationMs.get(task.id) ?? 0), path: [...before.path, task.id] });
  }
  const longest = [...end.values()].reduce((a, b) => (b.ms > a.ms ? b : a), { ms: 0, path: [] });
  let widest = 0;
  for (const task of graph) {
    const at = start.get(task.id) ?? 0;
    const running = graph.filter((other) => {
      const from = start.get(other.id) ?? 0;
      return from <= at && at < (end.get(other.id)?.ms ?? 0);
    }).length;
    widest = Math.max(widest, running);
  }
  const totalMs = [...durationMs.values()].reduce((sum, ms) => sum + ms, 0);
  return { ...longest, totalMs, widest };
}
