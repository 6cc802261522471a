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

  dispatch(job: TaskJob): void {
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
        this.onSettled();
      });
    this.running.add(settled);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
