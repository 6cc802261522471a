import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeError } from '../core/errors.js';
import type { ParamValue, PipelineDefinition } from '../core/pipeline.js';
import { planTasks } from '../core/task-plan.js';
import { DuckDbEngine } from '../engine/duckdb-engine.js';
import type { AttemptRecord, RunRecord, TaskInstanceRecord } from '../metadata/metadata-store.js';
import type { AttemptContext, TaskJob, TaskReport, TaskRunner } from '../orchestrator/task-runner.js';
import type { ObjectStore } from '../storage/object-store.js';
import { LakeLayout, type LakeStores } from '../table/lake-layout.js';
import { taskFingerprint } from './fingerprints.js';
import { executeTask, tableSummary } from './pipeline-tasks.js';
import type { ProgressListener } from '../core/progress.js';
import type { RunContext, RunInfo } from './run-context.js';
import { assembleSummary } from './run-summary.js';

export interface PipelineTaskRunnerOptions {
  source: ObjectStore;
  lake: LakeStores;
  /** DuckDB's memory limit for each run's database (its tasks share it), e.g. '1GB'. */
  memoryLimit?: string;
  threads?: number;
  /** Where DuckDB spills and stages files; default: the OS temp dir. Each run gets a directory below. */
  scratchDir?: string;
  retryRejected?: boolean;
  progress?: ProgressListener;
}

/**
 * Runs the data pipeline's tasks in this process. The tasks of one run share one DuckDB database (and its memory
 * budget), each try in its own session; the database is closed when the run ends.
 */
export class PipelineTaskRunner implements TaskRunner {
  private readonly lake: LakeLayout;
  private readonly engines = new Map<string, Promise<DuckDbEngine>>();

  constructor(private readonly options: PipelineTaskRunnerOptions) {
    this.lake = new LakeLayout(options.lake);
  }

  async fingerprint(job: TaskJob): Promise<string | undefined> {
    return taskFingerprint(this.runInfo(job), job.task);
  }

  async describeSkipped(job: TaskJob): Promise<TaskReport> {
    const detail = 'skipped: inputs unchanged since its last success';
    if (!job.task.output) return { detail };
    return { detail, rowsOut: 0, data: { table: await tableSummary(this.lake, job.task, 0) } };
  }

  async run(job: TaskJob, attempt: AttemptContext): Promise<TaskReport> {
    if (job.task.kind === 'custom') return this.runCustom(job, attempt);
    const engine = await (await this.engine(job.run.id)).connect();
    const interrupt = (): void => engine.interrupt();
    attempt.signal.addEventListener('abort', interrupt, { once: true });
    try {
      for (const macro of job.pipeline.macros ?? []) await engine.run(macro);
      return await executeTask(this.context(job, engine, attempt), job.task);
    } finally {
      attempt.signal.removeEventListener('abort', interrupt);
      engine.close();
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
      lake: this.options.lake.location,
      source: this.options.source.location,
    });
    await this.closeRun(run.id);
    try {
      await this.lake.system().put(this.lake.runSummaryKey(run.id), JSON.stringify(summary, null, 2));
    } catch (error) {
      // The run's outcome is still recorded in the metadata store; only its copy in the lake is missing.
      summary.status = 'failed';
      summary.error ??= `the run summary could not be stored: ${describeError(error)}`;
    }
    return summary;
  }

  /** Closes the run's database and removes its scratch files (also when the run is abandoned). */
  async closeRun(runId: string): Promise<void> {
    const engine = this.engines.get(runId);
    this.engines.delete(runId);
    if (engine) (await engine.catch(() => undefined))?.close();
    await rm(this.scratchDir(runId), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    for (const runId of [...this.engines.keys()]) await this.closeRun(runId);
  }

  private scratchDir(runId: string): string {
    return path.join(this.options.scratchDir ?? os.tmpdir(), `medallion-${runId}`);
  }

  private engine(runId: string): Promise<DuckDbEngine> {
    let engine = this.engines.get(runId);
    if (!engine) {
      engine = DuckDbEngine.create({
        scratchDir: this.scratchDir(runId),
        ...(this.options.memoryLimit && { memoryLimit: this.options.memoryLimit }),
        ...(this.options.threads && { threads: this.options.threads }),
      });
      this.engines.set(runId, engine);
    }
    return engine;
  }

  private async runCustom(job: TaskJob, attempt: AttemptContext): Promise<TaskReport> {
    const definition = job.pipeline.tasks?.find((task) => task.name === job.task.id);
    if (!definition) throw new Error(`no custom task ${job.task.id} in ${job.pipeline.name}`);
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
      lake: this.lake,
    });
    return { ...outcome, detail: outcome?.detail ?? 'done' };
  }

  private runInfo(job: TaskJob): RunInfo {
    return {
      pipeline: job.pipeline,
      runId: job.run.id,
      logicalDate: job.run.logicalDate.slice(0, 10),
      dataInterval: { start: job.run.dataIntervalStart, end: job.run.dataIntervalEnd },
      params: job.run.params as Record<string, ParamValue>,
      startedAt: new Date(job.attempt.startedAt),
      source: this.options.source,
      lake: this.lake,
      retryRejected: this.options.retryRejected ?? false,
    };
  }

  private context(job: TaskJob, engine: DuckDbEngine, attempt: AttemptContext): RunContext {
    const progress = this.options.progress;
    return {
      ...this.runInfo(job),
      engine,
      progress: (event) => {
        if (event.type === 'task-progress') attempt.log(event.message);
        progress?.(event);
      },
    };
  }
}
