import type { PipelineDefinition } from '../core/pipeline.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { triggerRun } from '../orchestrator/run-control.js';
import { Scheduler, type RunObserver } from '../orchestrator/scheduler.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { LakeStores } from '../table/lake-layout.js';
import { PipelineTaskRunner } from './pipeline-task-runner.js';
import type { ProgressListener } from '../core/progress.js';
import type { RunSummary } from './run-summary.js';

export interface RunOptions {
  pipeline: PipelineDefinition;
  source: ObjectStore;
  lake: LakeStores;
  /** Where runs, tries and fingerprints are kept; default: a fresh in-memory SQLite (no history, no skipping). */
  store?: MetadataStore;
  /** YYYY-MM-DD; default: now. */
  logicalDate?: string;
  /** Checked against the pipeline's declared parameters. */
  params?: Record<string, unknown>;
  /** Run every task even when its inputs are unchanged since its last success. */
  force?: boolean;
  /**
   * Honour the tasks' retry policies, waiting their delays (default false: each task is tried once, as a
   * command run by hand should report a failure at once rather than wait minutes for a retry).
   */
  retries?: boolean;
  retryRejected?: boolean;
  /** DuckDB memory limit, e.g. '1GB'. */
  memoryLimit?: string;
  threads?: number;
  /** Tasks run at once (default 2). */
  slots?: number;
  /** Where DuckDB spills and stages files; default: under the OS temp dir. */
  scratchDir?: string;
  progress?: ProgressListener;
  /** Hears of the run's end (alerts). */
  observer?: RunObserver;
}

/**
 * Triggers a run of the pipeline and executes it in this process, tasks in parallel as the graph allows, through
 * the same scheduler and state machine as `medallion scheduler`; returns (and stores) the summary.
 */
export async function runPipeline(options: RunOptions): Promise<RunSummary> {
  const store = options.store ?? (await openMetadataStore(':memory:'));
  const runner = new PipelineTaskRunner({
    source: options.source,
    lake: options.lake,
    retryRejected: options.retryRejected ?? false,
    ...(options.memoryLimit && { memoryLimit: options.memoryLimit }),
    ...(options.threads && { threads: options.threads }),
    ...(options.scratchDir && { scratchDir: options.scratchDir }),
    ...(options.progress && { progress: options.progress }),
  });
  try {
    const now = new Date();
    const run = await triggerRun(store, options.pipeline, {
      now,
      ...(options.logicalDate && { logicalDate: new Date(`${options.logicalDate}T00:00:00Z`) }),
      ...(options.params && { params: options.params }),
      ...(options.force !== undefined && { force: options.force }),
      retries: options.retries ?? false,
    });
    options.progress?.({
      type: 'run-started',
      runId: run.id,
      pipeline: options.pipeline.name,
      tasks: (await store.listTaskInstances(run.id)).map((task) => task.taskId),
    });
    const scheduler = new Scheduler({
      store,
      pipelines: [options.pipeline],
      runner,
      slots: options.slots ?? 2,
      createScheduledRuns: false,
      runIds: [run.id],
      ...(options.observer && { observer: options.observer }),
      ...(options.progress && { progress: options.progress }),
      // Only this process drives the run: no waiting between passes but for its own tries.
      pollMs: 200,
      onError: (error) => {
        throw error;
      },
    });
    let finished: RunSummary | undefined;
    await scheduler.loop(async () => {
      const current = await store.getRun(run.id);
      if (current?.state === 'success' || current?.state === 'failed')
        finished = current.summary as RunSummary;
      return finished !== undefined;
    });
    await scheduler.drain();
    await options.observer?.drain();
    if (!finished) throw new Error(`run ${run.id} did not finish`);
    options.progress?.({
      type: 'run-finished',
      runId: run.id,
      status: finished.status,
      durationMs: finished.durationMs,
    });
    return finished;
  } finally {
    await runner.close();
    if (!options.store) await store.close();
  }
}
