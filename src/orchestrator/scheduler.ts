import type { PipelineDefinition } from '../core/pipeline.js';
import type { ProgressListener } from '../core/progress.js';
import { nextTryAt } from '../core/retry-policy.js';
import { decide, isDone, type StopState } from '../core/run-state.js';
import { dueIntervals } from '../core/schedule.js';
import type {
  AttemptRecord,
  MetadataStore,
  ProcessKind,
  RunLocations,
  RunRecord,
  Subscription,
  TaskInstanceRecord,
} from '../metadata/metadata-store.js';
import { processId, ProcessAnnouncer } from './announcer.js';
import { PipelineCatalog } from './catalog.js';
import { systemClock, type Clock } from './clock.js';
import { describeGone, failAbandonedRuns, liveness, localProbe, type LivenessProbe } from './liveness.js';
import { PassLoop, reportOnStderr } from './pass-loop.js';
import { leaseKey, newRun, registerPipelines, scheduleOf } from './run-control.js';
import type { TaskRunner } from './task-runner.js';
import { Worker } from './worker.js';

export interface SchedulerOptions {
  store: MetadataStore;
  pipelines: readonly PipelineDefinition[];
  runner: TaskRunner;
  clock?: Clock;
  /** Execute tasks too (default true); false: only create, start, advance and finish runs (`--no-execute`). */
  execute?: boolean;
  /** Tries run at once by this process (default 4). */
  slots?: number;
  /** The queues it claims tasks from (default: every queue, as a scheduler alone on its machine should). */
  queues?: readonly string[];
  /** This process's name in attempts and in the processes table (default host:pid:random). */
  worker?: string;
  /** What this process is, for `medallion workers` and liveness checks (default scheduler). */
  kind?: ProcessKind;
  /** How often a running try (and this process) records that it is alive (default 5 s). */
  heartbeatMs?: number;
  /** A try or process silent this long is taken for dead (default 30 s). */
  staleAfterMs?: number;
  /** How long a run's lock on its lake lasts unless renewed (default staleAfterMs). */
  leaseTtlMs?: number;
  /** How often the store is read for work when nothing wakes the scheduler sooner (default 1 s). */
  pollMs?: number;
  /** Create the runs schedules make due (default true; false for `medallion run`, which drives one run). */
  createScheduledRuns?: boolean;
  /** Where the runs a schedule creates read and write; undefined: that pipeline gets no scheduled runs. */
  locations?: (pipeline: PipelineDefinition) => RunLocations | undefined;
  /** Only these runs are started and advanced (default: every run of the pipelines). */
  runIds?: readonly string[];
  progress?: ProgressListener;
  /** Hears of finished runs and of the active ones on every pass (alerts). */
  observer?: RunObserver;
  /** Errors of a loop pass (the loop goes on); default: printed on stderr. */
  onError?: (error: unknown) => void;
  /** Tells dead processes on this host at once (tests replace it). */
  probe?: LivenessProbe;
}

/** What watches runs besides the store (the alerter): it must not throw and may work in the background. */
export interface RunObserver {
  runFinished(
    pipeline: PipelineDefinition,
    run: RunRecord,
    tasks: readonly TaskInstanceRecord[],
    attempts: readonly AttemptRecord[],
  ): Promise<unknown>;
  /** The pipeline's queued and running runs, at each pass (for SLAs). */
  checkSla(pipeline: PipelineDefinition, runs: readonly RunRecord[], now: Date): Promise<unknown>;
  drain(): Promise<void>;
}

/** Whether the pipeline writes tables (then one run at a time writes a lake); custom tasks alone take no lock. */
function writesTables(pipeline: PipelineDefinition): boolean {
  return pipeline.sources.length + pipeline.tables.length > 0;
}

/**
 * The scheduler: creates the runs schedules make due, starts queued runs within maxActiveRuns and the lock of
 * their lake, applies the run/task state machine (core/run-state.ts) to the store, fails tries whose process is
 * gone and runs whose owner is gone, and (unless started with `execute: false`) executes queued tries of the runs
 * it advances through its own Worker. Every change is a compare-and-set in the store, so several schedulers and
 * workers on one database never create, start or claim the same thing twice.
 */
export class Scheduler {
  readonly worker: string;
  private readonly store: MetadataStore;
  private readonly clock: Clock;
  private readonly catalog: PipelineCatalog;
  /** The executing half; undefined with `execute: false`. */
  private readonly executor: Worker | undefined;
  private readonly announcer: ProcessAnnouncer;
  private readonly passes: PassLoop;
  private readonly options: SchedulerOptions;
  /** Runs whose lease this process renews, with when it expires (ms). */
  private readonly leases = new Map<string, number>();
  /** What was last said about a run that waits, so that it is said once. */
  private readonly waiting = new Map<string, string>();
  private registered = false;
  private subscription: Subscription | undefined;

  constructor(options: SchedulerOptions) {
    this.options = options;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.worker = processId(options.worker);
    this.catalog = new PipelineCatalog(options.pipelines);
    this.passes = new PassLoop(
      this.clock,
      options.pollMs ?? 1_000,
      options.onError ?? reportOnStderr(options.kind ?? 'scheduler'),
    );
    this.executor =
      options.execute === false
        ? undefined
        : new Worker({
            store: this.store,
            catalog: this.catalog,
            runner: options.runner,
            clock: this.clock,
            id: this.worker,
            slots: options.slots ?? 4,
            ...(options.queues && { queues: options.queues }),
            heartbeatMs: this.heartbeatMs,
            staleAfterMs: this.staleAfterMs,
            ...(options.progress && { progress: options.progress }),
            onSettled: () => this.wake(),
          });
    this.announcer = new ProcessAnnouncer(this.store, this.clock, {
      id: this.worker,
      kind: options.kind ?? 'scheduler',
      catalog: this.catalog,
      heartbeatMs: this.heartbeatMs,
      executes: this.executor?.serves ?? null,
    });
  }

  private get heartbeatMs(): number {
    return this.options.heartbeatMs ?? 5_000;
  }

  private get staleAfterMs(): number {
    return this.options.staleAfterMs ?? 30_000;
  }

  /** Makes the loop pass again now (a try ended, a run was triggered). */
  wake(): void {
    this.passes.wake();
  }

  /** Records this process in the store (and, at most every heartbeat, that it is still alive). */
  announce(now = this.clock.now(), force = true): Promise<void> {
    return this.announcer.announce(now, force);
  }

  /** One pass: create, start, recover, advance, dispatch. */
  async tick(): Promise<void> {
    if (!this.registered) {
      await registerPipelines(
        this.store,
        this.catalog.all().map((known) => known.definition),
      );
      this.registered = true;
    }
    const now = this.clock.now();
    await this.announce(now, false);
    const paused = new Set((await this.store.listPipelines()).filter((p) => p.paused).map((p) => p.name));
    if (this.options.createScheduledRuns !== false) await this.createDueRuns(now, paused);
    const all = await this.store.listRuns({ states: ['queued', 'running'] });
    const abandoned = await failAbandonedRuns(
      this.store,
      all.filter((run) => run.owner !== null && run.owner !== this.worker),
      {
        now,
        staleAfterMs: this.staleAfterMs,
        probe: this.probe,
        ...(this.options.progress && { progress: this.options.progress }),
      },
    );
    const ended = new Set(abandoned.map((run) => run.id));
    const active = all.filter((run) => !ended.has(run.id) && this.inScope(run)).reverse();
    if (this.options.observer) {
      for (const { definition } of this.catalog.all()) {
        const mine = active.filter((run) => run.pipeline === definition.name);
        if (mine.length > 0) void this.options.observer.checkSla(definition, mine, now);
      }
    }
    await this.startQueuedRuns(active, now, paused);
    await this.recoverStale(now);
    const runnable: RunRecord[] = [];
    for (const run of active.filter((candidate) => candidate.state === 'running')) {
      if (!(await this.holdLease(run, now))) continue;
      if (!(await this.advance(run, now))) runnable.push(run);
    }
    if (this.executor) {
      await this.reportForeign(this.executor, all, now);
      await this.executor.dispatch(now, runnable);
      await this.executor.releaseEndedRuns(new Set(runnable.map((run) => run.id)));
    }
  }

  /**
   * Passes until `done()` says so (or `stop()` is called): at once when woken (by this process, or by another
   * through the store's wake-ups), else every pollMs.
   */
  async loop(done: () => Promise<boolean> = async () => false): Promise<void> {
    this.subscription ??= this.store.subscribe((topic) => {
      if (topic === 'runs' || this.executor) this.wake();
    });
    try {
      await this.passes.run(() => this.tick(), done);
    } finally {
      await this.subscription.close();
      this.subscription = undefined;
    }
  }

  /**
   * Ends the loop once the running tries are over: claims nothing more meanwhile, and goes on passing (its
   * heartbeat tells others it is alive). Tries still running after `graceMs` are handed back to other processes;
   * with `abortRunning` they are stopped at once.
   */
  async stop(options: { abortRunning?: boolean; graceMs?: number } = {}): Promise<void> {
    if (options.abortRunning) this.executor?.abortRunning(new Error('the process is stopping'));
    await this.executor?.drain(options.graceMs);
    this.passes.stop();
    await this.options.observer?.drain();
  }

  /**
   * Stops a run: recorded in the store (so that every process running its tries stops them at their next
   * heartbeat, and its scheduler ends it in `state`), and this process's own tries of it are stopped at once.
   */
  async stopRun(runId: string, state: StopState, reason: string): Promise<RunRecord | undefined> {
    const run = await this.store.requestStop(runId, { state, reason }, this.clock.now().toISOString());
    this.executor?.stopRun(runId, state, run?.stop?.reason ?? reason);
    this.wake();
    return run;
  }

  /** Waits for the tries this process is running. */
  async drain(): Promise<void> {
    await this.executor?.waitForTries();
  }

  /** Waits for this process's tries, then records that it stopped (so that nobody waits for it). */
  async finish(): Promise<void> {
    await this.executor?.waitForTries();
    await this.announcer.stopped();
  }

  private get probe(): LivenessProbe {
    return this.options.probe ?? localProbe;
  }

  private inScope(run: RunRecord): boolean {
    return (
      this.catalog.has(run.pipeline) &&
      (!this.options.runIds || this.options.runIds.includes(run.id)) &&
      (run.owner === null || run.owner === this.worker)
    );
  }

  /** A line about a run, once per thing said. */
  private say(run: RunRecord, reason: string): void {
    if (this.waiting.get(run.id) === reason) return;
    this.waiting.set(run.id, reason);
    this.options.progress?.({ type: 'run-waiting', runId: run.id, pipeline: run.pipeline, reason });
  }

  private async createDueRuns(now: Date, paused: ReadonlySet<string>): Promise<void> {
    for (const { definition, hash } of this.catalog.all()) {
      const schedule = scheduleOf(definition);
      if (!schedule || paused.has(definition.name)) continue;
      const locations = this.options.locations?.(definition);
      if (!locations) continue;
      const last = await this.store.latestLogicalDate(definition.name, ['schedule']);
      for (const interval of dueIntervals(schedule, last === undefined ? undefined : new Date(last), now)) {
        const { run, created } = await this.store.createRun(
          newRun(definition, { trigger: 'schedule', interval, now, locations, definitionHash: hash }),
        );
        if (created) {
          this.options.progress?.({
            type: 'run-created',
            runId: run.id,
            pipeline: run.pipeline,
            logicalDate: run.logicalDate,
            trigger: run.trigger,
          });
        }
      }
    }
  }

  /**
   * Oldest logical date first, so that backfills run in order; at most maxActiveRuns running per pipeline, and one
   * per pipeline and lake (its lease): a run whose lake is locked by another waits, and says for whom.
   */
  private async startQueuedRuns(active: RunRecord[], now: Date, paused: ReadonlySet<string>): Promise<void> {
    for (const { definition } of this.catalog.all()) {
      if (paused.has(definition.name)) continue;
      const mine = active.filter((run) => run.pipeline === definition.name);
      let free =
        (definition.schedule?.maxActiveRuns ?? 1) - mine.filter((run) => run.state === 'running').length;
      for (const run of mine.filter((candidate) => candidate.state === 'queued')) {
        if (free <= 0) break;
        const lease =
          run.locations && writesTables(definition)
            ? { key: leaseKey(run.pipeline, run.locations.lake), holder: this.worker, ttlMs: this.leaseTtlMs }
            : undefined;
        const result = await this.store.startRun(run.id, now.toISOString(), lease);
        if (result.started) {
          run.state = 'running';
          run.startedAt = now.toISOString();
          if (lease) this.leases.set(run.id, now.getTime() + lease.ttlMs);
          free -= 1;
        } else if (result.heldBy) {
          this.say(
            run,
            `waiting for run ${result.heldBy.runId}, which holds the lock on ${run.pipeline} in ${run.locations?.lake}`,
          );
        }
      }
    }
  }

  private get leaseTtlMs(): number {
    return this.options.leaseTtlMs ?? this.staleAfterMs;
  }

  /** Renews the run's lease when half of it has passed; false when another run holds it now. */
  private async holdLease(run: RunRecord, now: Date): Promise<boolean> {
    const known = this.catalog.get(run.pipeline);
    if (!run.locations || !known || !writesTables(known.definition)) return true;
    const expires = this.leases.get(run.id);
    if (expires !== undefined && now.getTime() < expires - this.leaseTtlMs / 2) return true;
    const key = leaseKey(run.pipeline, run.locations.lake);
    if (await this.store.renewLease(key, run.id, this.worker, now.toISOString(), this.leaseTtlMs)) {
      this.leases.set(run.id, now.getTime() + this.leaseTtlMs);
      return true;
    }
    this.leases.delete(run.id);
    const holder = await this.store.getLease(key);
    this.say(
      run,
      `its lock on ${run.pipeline} in ${run.locations.lake} is held by run ${holder?.runId}: waiting`,
    );
    return false;
  }

  /**
   * Tries whose process died: failed, then retried per policy like any failure. A process is taken for dead when
   * its heartbeat is older than staleAfterMs or, on this host, its PID is gone (a SIGKILLed worker's tries are
   * retried at once); a try is taken for dead when its own heartbeat is that old.
   */
  private async recoverStale(now: Date): Promise<void> {
    const gone = (await this.store.listProcesses())
      .filter((record) => record.id !== this.worker)
      .filter((record) => liveness(record, now, this.staleAfterMs, this.probe) === 'dead');
    const stale = await this.store.staleAttempts(
      new Date(now.getTime() - this.staleAfterMs).toISOString(),
      gone.map((record) => record.id),
    );
    for (const attempt of stale) {
      const run = await this.store.getRun(attempt.runId);
      const task = run && this.catalog.get(run.pipeline)?.tasks.get(attempt.taskId);
      if (!run || !task) continue;
      const instance = await this.store.getTaskInstance(run.id, task.id);
      const retryAt = nextTryAt(task.retry, attempt.attempt, now, instance?.maxTries);
      const process = gone.find((record) => record.id === attempt.worker);
      // The attempt fails and its task moves on in one transaction; nothing when another scheduler did it first.
      await this.store.finishAttempt(run.id, task.id, attempt.attempt, {
        state: 'failed',
        reason: process
          ? `its process ${describeGone(process, 'dead')}`
          : `no heartbeat since ${attempt.heartbeatAt}: its process (${attempt.worker}) stopped`,
        finishedAt: now.toISOString(),
        task: { state: retryAt ? 'up_for_retry' : 'failed', nextTryAt: retryAt?.toISOString() ?? null },
      });
    }
  }

  /**
   * Applies the state machine's decisions to one running run, and ends it when every task is done. Returns whether
   * the run ended (then nothing more of it is claimed).
   */
  private async advance(run: RunRecord, now: Date): Promise<boolean> {
    const known = this.catalog.get(run.pipeline);
    if (!known) return false;
    const instances = await this.store.listTaskInstances(run.id);
    const decisions = decide(
      instances.map((instance) => ({
        id: instance.taskId,
        dependsOn: known.tasks.get(instance.taskId)?.dependsOn ?? [],
        state: instance.state,
        ...(instance.nextTryAt && { nextTryAt: new Date(instance.nextTryAt) }),
      })),
      now,
      run.stop?.state,
    );
    // One statement for all of them: a fan-out queues hundreds of tasks in one pass.
    if (decisions.upstreamFailed.length > 0)
      await this.store.transitionTasks(run.id, decisions.upstreamFailed, ['scheduled'], 'upstream_failed');
    if (decisions.cancel.length > 0) {
      await this.store.transitionTasks(
        run.id,
        decisions.cancel,
        ['scheduled', 'queued', 'up_for_retry'],
        'cancelled',
        { nextTryAt: null },
      );
    }
    if (decisions.queue.length > 0) {
      await this.store.transitionTasks(run.id, decisions.queue, ['scheduled', 'up_for_retry'], 'queued', {
        nextTryAt: null,
      });
    }
    if (!decisions.runOutcome) return false;
    const tasks = await this.store.listTaskInstances(run.id);
    if (!tasks.every((task) => isDone(task.state))) return false;
    const attempts = await this.store.listAttempts(run.id);
    const summary = await this.options.runner.finishRun(known.definition, run, tasks, attempts);
    const finishedAt = this.clock.now().toISOString();
    const ended = await this.store.transitionRun(run.id, ['running'], decisions.runOutcome, {
      finishedAt,
      summary,
    });
    this.forget(run.id);
    if (ended) {
      void this.options.observer?.runFinished(
        known.definition,
        { ...run, state: decisions.runOutcome, finishedAt, summary },
        tasks,
        attempts,
      );
    }
    return true;
  }

  /** Says, once, why running runs this process is asked about (runIds) or could see are not executed here. */
  private async reportForeign(executor: Worker, all: readonly RunRecord[], now: Date): Promise<void> {
    for (const run of all) {
      if (run.state !== 'running' || this.catalog.has(run.pipeline)) continue;
      if (run.owner !== null || (this.options.runIds && !this.options.runIds.includes(run.id))) continue;
      await executor.admits(run, now);
    }
  }

  private forget(runId: string): void {
    this.leases.delete(runId);
    this.waiting.delete(runId);
    this.executor?.forget(runId);
  }
}
