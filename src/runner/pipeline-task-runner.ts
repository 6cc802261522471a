import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, describeError } from '../core/errors.js';
import { macrosFor, type ParamValue, type PipelineDefinition } from '../core/pipeline.js';
import type { ProgressListener } from '../core/progress.js';
import { retentionPolicy } from '../core/retention.js';
import { planTasks } from '../core/task-plan.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { Engine, StatementTracer } from '../engine/engine.js';
import type {
  AttemptRecord,
  RunLocations,
  RunRecord,
  TaskInstanceRecord,
} from '../metadata/metadata-store.js';
import type { AttemptContext, TaskJob, TaskReport, TaskRunner } from '../orchestrator/task-runner.js';
import type { ObjectStore } from '../storage/object-store.js';
import { LakeLayout, type LakeStores } from '../table/lake-layout.js';
import { taskFingerprint } from './fingerprints.js';
import { executeTask, tableSummary } from './pipeline-tasks.js';
import type { RunContext, RunInfo } from './run-context.js';
import { assembleSummary } from './run-summary.js';
import {
  describeSparkTry,
  dialectOf,
  openSparkSession,
  taskEngineKind,
  type SparkTry,
} from './task-engine.js';
import { makeScratchDir, scratchDirOf, sweepScratchDirs } from './scratch.js';

/** Opens the stores a run's recorded locations name (the CLI resolves URLs and named connections). */
export interface LocationOpener {
  source(location: string): Promise<ObjectStore>;
  lake(location: string): Promise<LakeStores>;
}

export interface PipelineTaskRunnerOptions {
  /** How a run's source and lake are reached: each run is executed against its own. */
  open: LocationOpener;
  /** DuckDB's memory limit for each run's database (its tasks share it), e.g. '1GB'. */
  memoryLimit?: string;
  threads?: number;
  /** Where DuckDB spills and stages files; default: the OS temp dir. Each run gets a directory below. */
  scratchDir?: string;
  retryRejected?: boolean;
  progress?: ProgressListener;
}

interface RunStores {
  source: ObjectStore | undefined;
  lake: LakeLayout;
}

/**
 * Runs the data pipeline's tasks in this process, each against the source and lake its run recorded. The tasks of
 * one run share one DuckDB database (and its memory budget), each try in its own session; the database is closed
 * when the run ends.
 */
export class PipelineTaskRunner implements TaskRunner {
  private readonly engines = new Map<string, Promise<DuckDbEngine>>();
  /** Opened stores per location, shared by the runs that use them (an S3 client each). */
  private readonly sources = new Map<string, Promise<ObjectStore>>();
  private readonly lakes = new Map<string, Promise<LakeLayout>>();
  private readonly swept: Promise<unknown>;

  constructor(private readonly options: PipelineTaskRunnerOptions) {
    // Scratch directories of runs whose process died on this host (SIGKILL, power cut) are this runner's to remove.
    this.swept = sweepScratchDirs(this.scratchBase).catch(() => []);
  }

  async cannotRun(pipeline: PipelineDefinition, run: RunRecord): Promise<string | undefined> {
    try {
      await this.stores(pipeline, run);
      return undefined;
    } catch (error) {
      return describeError(error);
    }
  }

  async fingerprint(job: TaskJob): Promise<string | undefined> {
    return taskFingerprint(
      await this.runInfo(job),
      job.task,
      dialectOf(taskEngineKind(job.pipeline, job.task, job.run)),
    );
  }

  async describeSkipped(job: TaskJob): Promise<TaskReport> {
    const detail = 'skipped: inputs unchanged since its last success';
    if (!job.task.output) return { detail };
    const { lake } = await this.stores(job.pipeline, job.run);
    return { detail, rowsOut: 0, data: { table: await tableSummary(lake, job.task, 0) } };
  }

  async run(job: TaskJob, attempt: AttemptContext): Promise<TaskReport> {
    if (job.task.kind === 'custom') return this.runCustom(job, attempt);
    const info = await this.runInfo(job);
    const tracer = logStatements(attempt.log);
    const local = await (await this.engine(job.run.id)).connect({ tracer });
    const sessions: Engine[] = [local];
    const interrupt = (): void => sessions.forEach((session) => session.interrupt());
    attempt.signal.addEventListener('abort', interrupt, { once: true });
    let spark: SparkTry | undefined;
    try {
      if (taskEngineKind(job.pipeline, job.task, job.run) === 'spark') {
        spark = await openSparkSession(
          job.run,
          local,
          path.join(local.scratchDir, 'spark'),
          tracer,
          attempt.log,
        );
        sessions.push(spark.engine);
      }
      const engine = spark?.engine ?? local;
      for (const macro of macrosFor(job.pipeline, engine.kind)) await engine.run(macro);
      const report = await executeTask(this.context(info, engine, local, attempt), job.task);
      if (!spark) return report;
      const record = await spark.record();
      attempt.log(describeSparkTry(record));
      return { ...report, data: { ...report.data, spark: record } };
    } catch (error) {
      // A failed try's Spark work too: where to look in the Spark UI.
      if (spark) attempt.log(describeSparkTry(await spark.record()));
      throw error;
    } finally {
      attempt.signal.removeEventListener('abort', interrupt);
      for (const session of sessions) session.close();
    }
  }

  async finishRun(
    pipeline: PipelineDefinition,
    run: RunRecord,
    tasks: TaskInstanceRecord[],
    attempts: AttemptRecord[],
  ): Promise<unknown> {
    const order = new Map(planTasks(pipeline).map((task, index) => [task.id, index]));
    const summary = assembleSummary({
      pipeline: pipeline.name,
      run,
      tasks: [...tasks].sort((a, b) => (order.get(a.taskId) ?? 0) - (order.get(b.taskId) ?? 0)),
      attempts,
      lake: run.locations?.lake ?? '',
      source: run.locations?.source ?? null,
    });
    await this.release(run.id);
    try {
      const { lake } = await this.stores(pipeline, run);
      await lake.system().put(lake.runSummaryKey(run.id), JSON.stringify(summary, null, 2));
    } catch (error) {
      // The run's outcome is still recorded in the metadata store; only its copy in the lake is missing.
      if (summary.status === 'success') summary.status = 'failed';
      summary.error ??= `the run summary could not be stored: ${describeError(error)}`;
    }
    return summary;
  }

  /** Closes the run's database and removes its scratch files (also when the run ended elsewhere). */
  async release(runId: string): Promise<void> {
    const engine = this.engines.get(runId);
    this.engines.delete(runId);
    if (engine) (await engine.catch(() => undefined))?.close();
    await rm(scratchDirOf(this.scratchBase, runId), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    for (const runId of [...this.engines.keys()]) await this.release(runId);
    await this.swept;
  }

  private get scratchBase(): string {
    return this.options.scratchDir ?? os.tmpdir();
  }

  /** The run's source and lake, opened once per location. */
  private async stores(pipeline: PipelineDefinition, run: RunRecord): Promise<RunStores> {
    const locations = requireLocations(pipeline, run);
    return {
      source:
        locations.source === null
          ? undefined
          : await this.opened(this.sources, locations.source, (at) => this.options.open.source(at)),
      lake: await this.opened(
        this.lakes,
        locations.lake,
        async (at) => new LakeLayout(await this.options.open.lake(at)),
      ),
    };
  }

  /** One opening per location; a failed one is tried again next time. */
  private opened<T>(
    cache: Map<string, Promise<T>>,
    location: string,
    open: (at: string) => Promise<T>,
  ): Promise<T> {
    let opening = cache.get(location);
    if (!opening) {
      opening = open(location);
      cache.set(location, opening);
      opening.catch(() => cache.delete(location));
    }
    return opening;
  }

  private engine(runId: string): Promise<DuckDbEngine> {
    let engine = this.engines.get(runId);
    if (!engine) {
      engine = makeScratchDir(this.scratchBase, runId).then((scratchDir) =>
        DuckDbEngine.create({
          scratchDir,
          ...(this.options.memoryLimit && { memoryLimit: this.options.memoryLimit }),
          ...(this.options.threads && { threads: this.options.threads }),
        }),
      );
      this.engines.set(runId, engine);
    }
    return engine;
  }

  private async runCustom(job: TaskJob, attempt: AttemptContext): Promise<TaskReport> {
    const definition = job.pipeline.tasks?.find((task) => task.name === job.task.id);
    if (!definition) throw new Error(`no custom task ${job.task.id} in ${job.pipeline.name}`);
    const { lake } = await this.stores(job.pipeline, job.run);
    const retention = retentionPolicy(job.run.locations?.retention);
    const outcome = await definition.run({
      pipeline: job.pipeline.name,
      runId: job.run.id,
      taskId: job.task.id,
      attempt: job.attempt.attempt,
      logicalDate: job.run.logicalDate,
      dataInterval: { start: job.run.dataIntervalStart, end: job.run.dataIntervalEnd },
      params: attempt.params,
      signal: attempt.signal,
      log: attempt.log,
      lake,
      retention,
    });
    return { ...outcome, detail: outcome?.detail ?? 'done' };
  }

  private async runInfo(job: TaskJob): Promise<RunInfo> {
    const { source, lake } = await this.stores(job.pipeline, job.run);
    return {
      pipeline: job.pipeline,
      runId: job.run.id,
      logicalDate: job.run.logicalDate.slice(0, 10),
      dataInterval: { start: job.run.dataIntervalStart, end: job.run.dataIntervalEnd },
      params: job.run.params as Record<string, ParamValue>,
      startedAt: new Date(job.attempt.startedAt),
      source,
      lake,
      retryRejected: this.options.retryRejected ?? false,
      fullRefresh: job.run.fullRefresh,
    };
  }

  private context(info: RunInfo, engine: Engine, local: DuckDbEngine, attempt: AttemptContext): RunContext {
    const progress = this.options.progress;
    return {
      ...info,
      engine,
      ingestEngine: local,
      log: attempt.log,
      progress: (event) => {
        if (event.type === 'task-progress') attempt.log(event.message);
        progress?.(event);
      },
    };
  }
}

/** Longest statement a try's log keeps whole. */
const STATEMENT_MAX = 4_000;

/** Each statement a try runs, with its time, in the try's log; a failed one with its error. */
function logStatements(log: (message: string) => void): StatementTracer {
  return ({ sql, ms, error }) => {
    const text = sql.replace(/\s+/g, ' ').trim();
    const shown =
      text.length > STATEMENT_MAX ? `${text.slice(0, STATEMENT_MAX)} … (${text.length} characters)` : text;
    if (error === undefined) log(`sql ${ms.toFixed(0)} ms: ${shown}`);
    else log(`failed statement (${ms.toFixed(0)} ms): ${shown}\n  error: ${error}`);
  };
}

/** The run's recorded locations, or why a run without them cannot be executed. */
function requireLocations(pipeline: PipelineDefinition, run: RunRecord): RunLocations {
  if (!run.locations) {
    throw new ConfigError(`run ${run.id} does not record where its lake is`, {
      hint: 'it was created by an older medallion: trigger a new run',
    });
  }
  if (pipeline.sources.length > 0 && run.locations.source === null) {
    throw new ConfigError(`run ${run.id} of ${pipeline.name} records no source location`, {
      hint: "give the pipeline a source (the project file's `source`, or --source) and trigger a new run",
    });
  }
  return run.locations;
}
