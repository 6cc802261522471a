import { setMaxListeners } from 'node:events';
import { RunStoppedError } from '../core/errors.js';
import type { ProgressListener } from '../core/progress.js';
import { EVERY_QUEUE } from '../core/queues.js';
import type { StopState } from '../core/run-state.js';
import type { MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { RunAdmission } from './admission.js';
import { HandedBackError, runAttempt } from './attempt.js';
import type { PipelineCatalog } from './catalog.js';
import type { Clock } from './clock.js';
import { LocalExecutor } from './executor.js';
import type { TaskRunner } from './task-runner.js';

export interface WorkerOptions {
  store: MetadataStore;
  catalog: PipelineCatalog;
  runner: TaskRunner;
  clock: Clock;
  /** This process's name, as its attempts record it. */
  id: string;
  /** Tries run at once. */
  slots: number;
  /** The queues it claims from; undefined: every queue (a scheduler alone on its machine). */
  queues?: readonly string[];
  heartbeatMs: number;
  /** How long a try keeps trying to record its end while the store is unreachable (then it is stale anyway). */
  staleAfterMs: number;
  /** Why, besides its definition and locations, this process may not execute a run (e.g. a local lake). */
  refuse?: (run: RunRecord) => string | undefined;
  progress?: ProgressListener;
  /** Hears of each try's end (to pass again at once). */
  onSettled: () => void;
}

/**
 * The executing half of a medallion process: claims queued tries of the runs it may execute (their pipeline
 * loaded with the same definition, their locations reachable from here, their queue served) for its free slots,
 * and runs each against its run's own locations. A scheduler owns one unless started with --no-execute; a
 * `medallion worker` process is one alone (see WorkerProcess).
 */
export class Worker {
  private readonly options: WorkerOptions;
  private readonly executor: LocalExecutor;
  private readonly admission: RunAdmission;
  private readonly shutdown = new AbortController();
  /** Per run with tries here: aborted when the run is stopped from this process. */
  private readonly runStops = new Map<string, AbortController>();
  private draining = false;

  constructor(options: WorkerOptions) {
    this.options = options;
    this.executor = new LocalExecutor(options.slots, (job) => this.execute(job), options.onSettled);
    this.admission = new RunAdmission(
      (run) => this.blocker(run),
      (run, reason) =>
        options.progress?.({
          type: 'run-waiting',
          runId: run.id,
          pipeline: run.pipeline,
          reason: `not executed by this process: ${reason}`,
        }),
    );
    // Every running try listens for the shutdown: more than Node's default 10 is no leak when slots allow it.
    setMaxListeners(Math.max(10, options.slots), this.shutdown.signal);
  }

  get id(): string {
    return this.options.id;
  }

  /** What the processes table records of it. */
  get serves(): { queues: string[]; slots: number } {
    return {
      queues: this.options.queues ? [...this.options.queues] : [EVERY_QUEUE],
      slots: this.options.slots,
    };
  }

  /** Whether it may execute the run's tasks (said once per reason when not). */
  admits(run: RunRecord, now: Date): Promise<boolean> {
    return this.admission.admits(run, now);
  }

  /** Claims queued tries of `runs` (running, not being stopped) that this process may execute, for its free slots. */
  async dispatch(now: Date, runs: readonly RunRecord[]): Promise<void> {
    const free = this.executor.freeSlots();
    if (free <= 0 || this.draining) return;
    const admitted = new Map<string, RunRecord>();
    for (const run of runs) {
      if (run.stop === null && (await this.admission.admits(run, now))) admitted.set(run.id, run);
    }
    // Admission awaited the store: a SIGTERM may have come meanwhile, and a draining worker claims nothing.
    if (admitted.size === 0 || this.draining) return;
    // Stamped now, not at the pass's start: a try starts when it is claimed (after a task queued meanwhile).
    const claimedAt = this.options.clock.now().toISOString();
    const claimed = await this.options.store.claimTasks(this.options.id, free, claimedAt, {
      runIds: [...admitted.keys()],
      ...(this.options.queues && { queues: this.options.queues }),
    });
    for (const attempt of claimed) {
      const run = admitted.get(attempt.runId);
      const known = run && this.options.catalog.get(run.pipeline);
      const task = known?.tasks.get(attempt.taskId);
      if (!run || !known || !task) continue;
      this.executor.dispatch({ pipeline: known.definition, run, task, attempt });
    }
  }

  /** Stops this process's tries of the run at once (the stop itself is recorded by the caller). */
  stopRun(runId: string, state: StopState, reason: string): void {
    this.runStops.get(runId)?.abort(new RunStoppedError(state, reason));
  }

  /** Whether a try of the run is running here. */
  isRunning(runId: string): boolean {
    return this.executor.isRunning(runId);
  }

  /** What it kept for runs no longer active (ended, or abandoned) is let go once their tries here are over. */
  async releaseEndedRuns(active: ReadonlySet<string>): Promise<void> {
    for (const runId of [...this.runStops.keys()]) {
      if (active.has(runId) || this.executor.isRunning(runId)) continue;
      this.forget(runId);
      await this.options.runner.release?.(runId);
    }
  }

  forget(runId: string): void {
    this.runStops.delete(runId);
    this.admission.forget(runId);
  }

  /** Tells every running try to stop now (they record themselves as failed and retried per policy). */
  abortRunning(reason: Error): void {
    this.shutdown.abort(reason);
  }

  /** Resolves once the tries running now (and any dispatched meanwhile) have ended. */
  waitForTries(): Promise<void> {
    return this.executor.drain();
  }

  /**
   * Claims nothing more and waits for the running tries; those still running after `graceMs` are handed back:
   * stopped and queued again for another process, without spending a retry.
   */
  async drain(graceMs = Infinity): Promise<void> {
    this.draining = true;
    const timer = Number.isFinite(graceMs)
      ? setTimeout(
          () => this.shutdown.abort(new HandedBackError(`${this.options.id} stopped before the try ended`)),
          graceMs,
        )
      : undefined;
    try {
      await this.executor.drain();
    } finally {
      clearTimeout(timer);
    }
  }

  private async blocker(run: RunRecord): Promise<string | undefined> {
    const known = this.options.catalog.get(run.pipeline);
    return (
      this.options.catalog.definitionBlocker(run) ??
      this.options.refuse?.(run) ??
      (known && (await this.options.runner.cannotRun?.(known.definition, run)))
    );
  }

  private execute(job: Parameters<typeof runAttempt>[0]): Promise<unknown> {
    return runAttempt(job, {
      store: this.options.store,
      runner: this.options.runner,
      clock: this.options.clock,
      heartbeatMs: this.options.heartbeatMs,
      persistForMs: this.options.staleAfterMs,
      shutdown: AbortSignal.any([this.shutdown.signal, this.runStop(job.run.id).signal]),
      lake: job.run.locations?.lake,
      ...(this.options.progress && { progress: this.options.progress }),
    });
  }

  private runStop(runId: string): AbortController {
    let controller = this.runStops.get(runId);
    if (!controller) {
      controller = new AbortController();
      setMaxListeners(Math.max(10, this.options.slots), controller.signal);
      this.runStops.set(runId, controller);
    }
    return controller;
  }
}
