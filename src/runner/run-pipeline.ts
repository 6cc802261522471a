import { ConfigError } from '../core/errors.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import type { ProgressListener } from '../core/progress.js';
import { isRunFinished } from '../core/run-state.js';
import type { MetadataStore, RunLocations, RunRecord } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { leaseKey, triggerRun } from '../orchestrator/run-control.js';
import { Scheduler, type RunObserver } from '../orchestrator/scheduler.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { LakeStores } from '../table/lake-layout.js';
import { PipelineTaskRunner, type LocationOpener } from './pipeline-task-runner.js';
import type { RunSummary } from './run-summary.js';

export interface RunOptions {
  pipeline: PipelineDefinition;
  /** The source files (absent for a pipeline without sources). */
  source?: ObjectStore;
  lake: LakeStores;
  /**
   * The locations the run records, as another process would open them (a directory, an `s3://` URL with its
   * connection name); default: the stores' own locations.
   */
  locations?: RunLocations;
  /** Where runs, tries and fingerprints are kept; default: a fresh in-memory SQLite (no history, no skipping). */
  store?: MetadataStore;
  /** YYYY-MM-DD; default: now. */
  logicalDate?: string;
  /** Checked against the pipeline's declared parameters. */
  params?: Record<string, unknown>;
  /** Run every task even when its inputs are unchanged since its last success. */
  force?: boolean;
  /** Rebuild incremental tables from all their input. */
  fullRefresh?: boolean;
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
  /**
   * When another run of the pipeline holds the lake's lock: wait for it (default), or fail at once naming it
   * (a LakeLockedError).
   */
  waitForLock?: boolean;
  /**
   * Aborting it stops the run: its tries are interrupted (their reason: the signal's reason), it ends failed
   * and its summary is returned.
   */
  signal?: AbortSignal;
  /** Heartbeats of this process and its tries (default 5 s); a process silent 6× longer is taken for dead. */
  heartbeatMs?: number;
  progress?: ProgressListener;
  /** Hears of the run's end (alerts). */
  observer?: RunObserver;
}

/** Another run of the pipeline holds the lock on the lake (and the caller would not wait). */
export class LakeLockedError extends ConfigError {}

/**
 * Triggers a run of the pipeline and executes it in this process alone (it owns the run), tasks in parallel as
 * the graph allows, through the same scheduler and state machine as `medallion scheduler`; returns (and stores)
 * the summary.
 */
export async function runPipeline(options: RunOptions): Promise<RunSummary> {
  const store = options.store ?? (await openMetadataStore(':memory:'));
  const locations = options.locations ?? {
    source: options.source?.location ?? null,
    lake: options.lake.location,
  };
  const runner = new PipelineTaskRunner({
    open: givenStores(options, locations),
    retryRejected: options.retryRejected ?? false,
    ...(options.memoryLimit && { memoryLimit: options.memoryLimit }),
    ...(options.threads && { threads: options.threads }),
    ...(options.scratchDir && { scratchDir: options.scratchDir }),
    ...(options.progress && { progress: options.progress }),
  });
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  let scheduler: Scheduler | undefined;
  try {
    if (options.waitForLock === false) await refuseWhenLocked(store, options.pipeline.name, locations.lake);
    scheduler = new Scheduler({
      store,
      pipelines: [options.pipeline],
      runner,
      kind: 'run',
      slots: options.slots ?? 2,
      createScheduledRuns: false,
      heartbeatMs,
      staleAfterMs: heartbeatMs * 6,
      ...(options.observer && { observer: options.observer }),
      ...(options.progress && { progress: options.progress }),
      // Only this process drives the run: no waiting between passes but for its own tries.
      pollMs: 200,
      onError: (error) => {
        throw error;
      },
    });
    // Recorded before the run names it as its owner: nobody takes the run for abandoned.
    await scheduler.announce();
    const run = await triggerRun(store, options.pipeline, {
      now: new Date(),
      ...(options.logicalDate && { logicalDate: new Date(`${options.logicalDate}T00:00:00Z`) }),
      ...(options.params && { params: options.params }),
      ...(options.force !== undefined && { force: options.force }),
      ...(options.fullRefresh !== undefined && { fullRefresh: options.fullRefresh }),
      retries: options.retries ?? false,
      locations,
      owner: scheduler.worker,
    });
    options.progress?.({
      type: 'run-started',
      runId: run.id,
      pipeline: options.pipeline.name,
      tasks: (await store.listTaskInstances(run.id)).map((task) => task.taskId),
    });
    return await drive(scheduler, store, runner, run, options);
  } finally {
    await scheduler?.finish();
    await runner.close();
    if (!options.store) await store.close();
  }
}

/** Passes until the run is over, stopping it when the caller's signal aborts; returns its summary. */
async function drive(
  scheduler: Scheduler,
  store: MetadataStore,
  runner: PipelineTaskRunner,
  run: RunRecord,
  options: RunOptions,
): Promise<RunSummary> {
  const stop = (): void => {
    const reason = options.signal?.reason instanceof Error ? options.signal.reason.message : 'interrupted';
    void scheduler.stopRun(run.id, 'failed', reason);
  };
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  let finished: RunRecord | undefined;
  try {
    await scheduler.loop(async () => {
      const current = await store.getRun(run.id);
      if (current && isRunFinished(current.state)) finished = current;
      return finished !== undefined;
    });
    await scheduler.drain();
    await options.observer?.drain();
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  if (!finished) throw new Error(`run ${run.id} did not finish`);
  // A run ended from outside its scheduler (endRun) has no summary yet.
  const summary = (finished.summary ??
    (await runner.finishRun(
      options.pipeline,
      finished,
      await store.listTaskInstances(run.id),
      await store.listAttempts(run.id),
    ))) as RunSummary;
  options.progress?.({
    type: 'run-finished',
    runId: run.id,
    status: summary.status,
    durationMs: summary.durationMs,
  });
  return summary;
}

/** The stores the caller opened, for the locations the run records. */
function givenStores(
  options: RunOptions,
  locations: { source: string | null; lake: string },
): LocationOpener {
  const mismatch = (what: string, location: string): Error =>
    new Error(`this process opened no ${what} at ${location} (it runs ${locations.lake})`);
  return {
    source: async (location) => {
      if (!options.source || location !== locations.source) throw mismatch('source', location);
      return options.source;
    },
    lake: async (location) => {
      if (location !== locations.lake) throw mismatch('lake', location);
      return options.lake;
    },
  };
}

async function refuseWhenLocked(store: MetadataStore, pipeline: string, lake: string): Promise<void> {
  const lease = await store.getLease(leaseKey(pipeline, lake));
  if (!lease || Date.parse(lease.expiresAt) < Date.now()) return;
  const holder = await store.getRun(lease.runId);
  if (!holder || isRunFinished(holder.state)) return;
  throw new LakeLockedError(
    `run ${holder.id} of ${pipeline} (${holder.trigger}, ${holder.state}) holds the lock on ${lake}`,
    {
      context: { field: '--no-wait' },
      hint: `wait for it (\`medallion logs\`, \`medallion tasks ${holder.id}\`), cancel it (\`medallion cancel ${holder.id}\`), or run without --no-wait to start when it ends`,
    },
  );
}
