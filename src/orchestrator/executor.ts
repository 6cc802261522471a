import type { TaskJob } from './task-runner.js';

/**
 * Where claimed tries run. The scheduler claims no more tries than `freeSlots()` and hands each to `dispatch`;
 * the try reports its own end to the metadata store. A distributed executor (a queue and its workers) fits the
 * same port.
 */
export interface Executor {
  freeSlots(): number;
  dispatch(job: TaskJob): void;
  /** Resolves once every dispatched try has ended. */
  drain(): Promise<void>;
}

/** Runs tries in this process, at most `slots` at once; `onSettled` hears of each end (to schedule the next). */
export class LocalExecutor implements Executor {
  private readonly running = new Set<Promise<void>>();
  /** Tries running per run id. */
  private readonly perRun = new Map<string, number>();

  constructor(
    private readonly slots: number,
    private readonly execute: (job: TaskJob) => Promise<unknown>,
    private readonly onSettled: () => void = () => {},
  ) {
    if (!Number.isInteger(slots) || slots < 1)
      throw new Error(`slots must be a positive integer, got ${slots}`);
  }

  freeSlots(): number {
    return this.slots - this.running.size;
  }

  /** Whether a try of the run is running here. */
  isRunning(runId: string): boolean {
    return (this.perRun.get(runId) ?? 0) > 0;
  }

  dispatch(job: TaskJob): void {
    const runId = job.run.id;
    this.perRun.set(runId, (this.perRun.get(runId) ?? 0) + 1);
    const settled = this.execute(job)
      .then(() => undefined)
      .catch((error: unknown) => {
        // runAttempt records its own failures; reaching here means the store itself failed.
        console.error(
          `medallion: try ${job.attempt.attempt} of ${job.task.id} in run ${job.run.id}: ${String(error)}`,
        );
      })
      .finally(() => {
        this.running.delete(settled);
        const left = (this.perRun.get(runId) ?? 1) - 1;
        if (left > 0) this.perRun.set(runId, left);
        else this.perRun.delete(runId);
        this.onSettled();
      });
    this.running.add(settled);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
