import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { describeError } from '../core/errors.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import { nextTryAt } from '../core/retry-policy.js';
import { decide, isDone } from '../core/run-state.js';
import { dueIntervals } from '../core/schedule.js';
import { planTasks, type PlannedTask } from '../core/task-plan.js';
import type {
  AttemptRecord,
  MetadataStore,
  RunRecord,
  TaskInstanceRecord,
} from '../metadata/metadata-store.js';
import type { ProgressListener } from '../core/progress.js';
import { runAttempt } from './attempt.js';
import { systemClock, type Clock } from './clock.js';
import { LocalExecutor, type Executor } from './executor.js';
import { newRun, registerPipelines, scheduleOf } from './run-control.js';
import type { TaskRunner } from './task-runner.js';

export interface SchedulerOptions {
  store: MetadataStore;
  pipelines: readonly PipelineDefinition[];
  runner: TaskRunner;
  clock?: Clock;
  /** Tries run at once by this process (default 4). */
  slots?: number;
  /** This process's name in attempts (default host:pid:random). */
  worker?: string;
  /** How often a running try records that it is alive (default 5 s). */
  heartbeatMs?: number;
  /** A running try whose heartbeat is older than this is failed and retried per policy (default 30 s). */
  staleAfterMs?: number;
  /** How often the store is read for work when nothing wakes the scheduler sooner (default 1 s). */
  pollMs?: number;
  /** Create the runs schedules make due (default true; false for `medallion run`, which drives one run). */
  createScheduledRuns?: boolean;
  /** Only these runs are started and advanced (default: every run of the pipelines). */
  runIds?: readonly string[];
  progress?: ProgressListener;
  /** Hears of finished runs and of the active ones on every pass (alerts). */
  observer?: RunObserver;
  /** Errors of a loop pass (the loop goes on); default: printed on stderr. */
  onError?: (error: unknown) => void;
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

interface KnownPipeline {
  definition: PipelineDefinition;
  tasks: Map<string, PlannedTask>;
}

/**
 * The scheduler: creates the runs schedules make due, starts queued runs within maxActiveRuns, applies the
 * run/task state machine (core/run-state.ts) to the store, fails tries whose heartbeat stopped, and hands queued
 * tries to the executor. Every change is a compare-and-set in the store, so several schedulers on one database
 * never create, start or claim the same thing twice.
 */
export class Scheduler {
  readonly worker: string;
  private readonly store: MetadataStore;
  private readonly clock: Clock;
  private readonly pipelines = new Map<string, KnownPipeline>();
  private readonly executor: Executor;
  private readonly options: SchedulerOptions;
  private readonly shutdown = new AbortController();
  private wakeUp = new AbortController();
  private woken = false;
  private registered = false;
  private stopping = false;

  constructor(options: SchedulerOptions) {
    this.options = options;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.worker = options.worker ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    for (const definition of options.pipelines) {
      this.pipelines.set(definition.name, {
        definition,
        tasks: new Map(planTasks(definition).map((task) => [task.id, task])),
      });
    }
    const slots = options.slots ?? 4;
    this.executor = new LocalExecutor(
      slots,
      (job) =>
        runAttempt(job, {
          store: this.store,
          runner: options.runner,
          clock: this.clock,
          heartbeatMs: options.heartbeatMs ?? 5_000,
          shutdown: this.shutdown.signal,
          ...(options.progress && { progress: options.progress }),
        }),
      () => this.wake(),
    );
    // Every running try listens for the shutdown: more than Node's default 10 is no leak when slots allow it.
    setMaxListeners(Math.max(10, slots), this.shutdown.signal);
  }

  /** Makes the loop pass again now (a try ended, a run was triggered). */
  wake(): void {
    this.woken = true;
    this.wakeUp.abort();
  }

  /** One pass: create, start, recover, advance, dispatch. */
  async tick(): Promise<void> {
    if (!this.registered) {
      await registerPipelines(
        this.store,
        [...this.pipelines.values()].map((known) => known.definition),
      );
      this.registered = true;
    }
    const now = this.clock.now();
    const paused = new Set((await this.store.listPipelines()).filter((p) => p.paused).map((p) => p.name));
    if (this.options.createScheduledRuns !== false) await this.createDueRuns(now, paused);
    const active = await this.activeRuns();
    if (this.options.observer) {
      for (const { definition } of this.pipelines.values()) {
        const mine = active.filter((run) => run.pipeline === definition.name);
        if (mine.length > 0) void this.options.observer.checkSla(definition, mine, now);
      }
    }
    await this.startQueuedRuns(active, now, paused);
    await this.recoverStale(now);
    for (const run of active.filter((candidate) => candidate.state === 'running'))
      await this.advance(run, now);
    await this.dispatch(now, active);
  }

  /**
   * Passes until `done()` says so (or `stop()` is called): at once when woken, else every pollMs. Errors of a pass
   * are reported and the loop goes on, as a store outage should not end the scheduler.
   */
  async loop(done: () => Promise<boolean> = async () => false): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      this.wakeUp = new AbortController();
      try {
        await this.tick();
        if (await done()) break;
      } catch (error) {
        (this.options.onError ?? ((e) => console.error(`medallion scheduler: ${describeError(e)}`)))(error);
      }
      if (!this.woken) await this.clock.sleep(this.options.pollMs ?? 1_000, this.wakeUp.signal);
    }
  }

  /** Ends the loop; running tries are told to stop and awaited. */
  async stop(options: { abortRunning?: boolean } = {}): Promise<void> {
    this.stopping = true;
    if (options.abortRunning) this.shutdown.abort();
    this.wake();
    await this.executor.drain();
    await this.options.observer?.drain();
  }

  /** Waits for the tries this process is running. */
  drain(): Promise<void> {
    return this.executor.drain();
  }

  private inScope(run: RunRecord): boolean {
    return this.pipelines.has(run.pipeline) && (!this.options.runIds || this.options.runIds.includes(run.id));
  }

  private async activeRuns(): Promise<RunRecord[]> {
    const runs = await this.store.listRuns({ states: ['queued', 'running'] });
    return runs.filter((run) => this.inScope(run)).reverse();
  }

  private async createDueRuns(now: Date, paused: ReadonlySet<string>): Promise<void> {
    for (const { definition } of this.pipelines.values()) {
      const schedule = scheduleOf(definition);
      if (!schedule || paused.has(definition.name)) continue;
      const last = await this.store.latestLogicalDate(definition.name, ['schedule']);
      for (const interval of dueIntervals(schedule, last === undefined ? undefined : new Date(last), now)) {
        const { run, created } = await this.store.createRun(
          newRun(definition, { trigger: 'schedule', interval, now }),
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

  /** Oldest logical date first, so that backfills run in order; at most maxActiveRuns running per pipeline. */
  private async startQueuedRuns(active: RunRecord[], now: Date, paused: ReadonlySet<string>): Promise<void> {
    for (const { definition } of this.pipelines.values()) {
      if (paused.has(definition.name)) continue;
      const mine = active.filter((run) => run.pipeline === definition.name);
      let free =
        (definition.schedule?.maxActiveRuns ?? 1) - mine.filter((run) => run.state === 'running').length;
      for (const run of mine.filter((candidate) => candidate.state === 'queued')) {
        if (free <= 0) break;
        if (await this.store.transitionRun(run.id, ['queued'], 'running', { startedAt: now.toISOString() })) {
          run.state = 'running';
          run.startedAt = now.toISOString();
          free -= 1;
        }
      }
    }
  }

  /** Tries whose process died: failed, then retried per policy like any failure. */
  private async recoverStale(now: Date): Promise<void> {
    const staleAfter = this.options.staleAfterMs ?? 30_000;
    const stale = await this.store.staleAttempts(new Date(now.getTime() - staleAfter).toISOString());
    for (const attempt of stale) {
      const run = await this.store.getRun(attempt.runId);
      const task = run && this.pipelines.get(run.pipeline)?.tasks.get(attempt.taskId);
      if (!run || !task) continue;
      const instance = await this.store.getTaskInstance(run.id, task.id);
      const retryAt = nextTryAt(task.retry, attempt.attempt, now, instance?.maxTries);
      // The attempt fails and its task moves on in one transaction; nothing when another scheduler did it first.
      await this.store.finishAttempt(run.id, task.id, attempt.attempt, {
        state: 'failed',
        reason: `no heartbeat since ${attempt.heartbeatAt}: its process (${attempt.worker}) stopped`,
        finishedAt: now.toISOString(),
        task: { state: retryAt ? 'up_for_retry' : 'failed', nextTryAt: retryAt?.toISOString() ?? null },
      });
    }
  }

  /** Applies the state machine's decisions to one running run, and ends it when every task is done. */
  private async advance(run: RunRecord, now: Date): Promise<void> {
    const known = this.pipelines.get(run.pipeline);
    if (!known) return;
    const instances = await this.store.listTaskInstances(run.id);
    const decisions = decide(
      instances.map((instance) => ({
        id: instance.taskId,
        dependsOn: known.tasks.get(instance.taskId)?.dependsOn ?? [],
        state: instance.state,
        ...(instance.nextTryAt && { nextTryAt: new Date(instance.nextTryAt) }),
      })),
      now,
    );
    // One statement for all of them: a fan-out queues hundreds of tasks in one pass.
    if (decisions.upstreamFailed.length > 0)
      await this.store.transitionTasks(run.id, decisions.upstreamFailed, ['scheduled'], 'upstream_failed');
    if (decisions.queue.length > 0) {
      await this.store.transitionTasks(run.id, decisions.queue, ['scheduled', 'up_for_retry'], 'queued', {
        nextTryAt: null,
      });
    }
    if (!decisions.runOutcome) return;
    const tasks = await this.store.listTaskInstances(run.id);
    if (!tasks.every((task) => isDone(task.state))) return;
    const attempts = await this.store.listAttempts(run.id);
    const summary = await this.options.runner.finishRun(known.definition, run, tasks, attempts);
    const finishedAt = this.clock.now().toISOString();
    const ended = await this.store.transitionRun(run.id, ['running'], decisions.runOutcome, {
      finishedAt,
      summary,
    });
    if (ended) {
      void this.options.observer?.runFinished(
        known.definition,
        { ...run, state: decisions.runOutcome, finishedAt, summary },
        tasks,
        attempts,
      );
    }
  }

  /** Claims queued tries for the free slots; their runs are those of this pass (`active`) or read again. */
  private async dispatch(now: Date, active: readonly RunRecord[]): Promise<void> {
    const free = this.executor.freeSlots();
    if (free <= 0) return;
    const claimed = await this.store.claimTasks(this.worker, free, now.toISOString(), {
      pipelines: [...this.pipelines.keys()],
      ...(this.options.runIds && { runIds: this.options.runIds }),
    });
    const runs = new Map<string, RunRecord | undefined>(
      active.filter((run) => run.state === 'running').map((run) => [run.id, run]),
    );
    for (const attempt of claimed) {
      if (!runs.has(attempt.runId)) runs.set(attempt.runId, await this.store.getRun(attempt.runId));
      const run = runs.get(attempt.runId);
      const known = run && this.pipelines.get(run.pipeline);
      const task = known?.tasks.get(attempt.taskId);
      if (!run || !known || !task) continue;
      this.executor.dispatch({ pipeline: known.definition, run, task, attempt });
    }
  }
}
