import type { PipelineDefinition } from '../core/pipeline.js';
import type { ProgressListener } from '../core/progress.js';
import type { MetadataStore, RunRecord, Subscription } from '../metadata/metadata-store.js';
import { processId, ProcessAnnouncer } from './announcer.js';
import { PipelineCatalog } from './catalog.js';
import { systemClock, type Clock } from './clock.js';
import { PassLoop, reportOnStderr } from './pass-loop.js';
import type { TaskRunner } from './task-runner.js';
import { Worker } from './worker.js';

export interface WorkerProcessOptions {
  store: MetadataStore;
  pipelines: readonly PipelineDefinition[];
  runner: TaskRunner;
  clock?: Clock;
  /** Its name in attempts and in `medallion workers` (default host:pid:random). */
  id?: string;
  /** Tries run at once (default 4). */
  slots?: number;
  /** The queues it claims from (default: `default` only). */
  queues: readonly string[];
  heartbeatMs?: number;
  staleAfterMs?: number;
  /** How often the store is read for work when no wake-up comes sooner (default 1 s). */
  pollMs?: number;
  refuse?: (run: RunRecord) => string | undefined;
  progress?: ProgressListener;
  onError?: (error: unknown) => void;
}

/**
 * `medallion worker`: a process that only executes. Each pass it records its heartbeat, finds the running runs it
 * may execute and claims their queued tries of its queues; a wake-up from the store (tasks queued anywhere) or
 * the end of one of its tries makes it pass at once. Runs are created, started, advanced and finished by
 * schedulers; a run a `medallion run` process owns is that process's alone.
 */
export class WorkerProcess {
  readonly id: string;
  private readonly store: MetadataStore;
  private readonly clock: Clock;
  private readonly worker: Worker;
  private readonly announcer: ProcessAnnouncer;
  private readonly passes: PassLoop;
  private readonly catalog: PipelineCatalog;
  private subscription: Subscription | undefined;

  constructor(options: WorkerProcessOptions) {
    this.id = processId(options.id);
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.catalog = new PipelineCatalog(options.pipelines);
    const heartbeatMs = options.heartbeatMs ?? 5_000;
    this.passes = new PassLoop(
      this.clock,
      options.pollMs ?? 1_000,
      options.onError ?? reportOnStderr('worker'),
    );
    this.worker = new Worker({
      store: this.store,
      catalog: this.catalog,
      runner: options.runner,
      clock: this.clock,
      id: this.id,
      slots: options.slots ?? 4,
      queues: options.queues,
      heartbeatMs,
      staleAfterMs: options.staleAfterMs ?? 30_000,
      ...(options.refuse && { refuse: options.refuse }),
      ...(options.progress && { progress: options.progress }),
      onSettled: () => this.passes.wake(),
    });
    this.announcer = new ProcessAnnouncer(this.store, this.clock, {
      id: this.id,
      kind: 'worker',
      catalog: this.catalog,
      heartbeatMs,
      executes: this.worker.serves,
    });
  }

  announce(): Promise<void> {
    return this.announcer.announce();
  }

  /** One pass: heartbeat, then claim what its free slots can take. */
  async tick(): Promise<void> {
    const now = this.clock.now();
    await this.announcer.announce(now, false);
    // Runs a `medallion run` process owns are its own; the others are anyone's that can execute them.
    const running = (await this.store.listRuns({ states: ['running'] })).filter((run) => run.owner === null);
    await this.worker.dispatch(now, running);
    await this.worker.releaseEndedRuns(new Set(running.map((run) => run.id)));
  }

  /** Passes until stopped: at once when tasks are queued anywhere (or one of its tries ends), else every pollMs. */
  async loop(): Promise<void> {
    this.subscription ??= this.store.subscribe((topic) => {
      if (topic === 'tasks') this.passes.wake();
    });
    try {
      await this.passes.run(() => this.tick());
    } finally {
      await this.subscription.close();
      this.subscription = undefined;
    }
  }

  /**
   * Claims nothing more; the running tries finish, and those still running after `graceMs` are handed back to
   * other workers. Its heartbeat goes on meanwhile, so nobody takes it for dead. Then the loop ends.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    await this.worker.drain(options.graceMs);
    this.passes.stop();
  }

  /** Records that it stopped cleanly. */
  async finish(): Promise<void> {
    await this.worker.waitForTries();
    await this.announcer.stopped();
  }
}
