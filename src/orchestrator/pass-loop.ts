import { describeError } from '../core/errors.js';
import type { Clock } from './clock.js';

/**
 * The loop of a scheduler or a worker: a pass at once when woken (a wake-up from the store, a try that ended),
 * else every pollMs. An error of a pass is reported and the loop goes on: a store outage must not end the process.
 */
export class PassLoop {
  private wakeUp = new AbortController();
  private woken = false;
  private stopping = false;

  constructor(
    private readonly clock: Clock,
    private readonly pollMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  get stopped(): boolean {
    return this.stopping;
  }

  wake(): void {
    this.woken = true;
    this.wakeUp.abort();
  }

  /** Passes until `done()` says so or `stop()` is called. */
  async run(pass: () => Promise<void>, done: () => Promise<boolean> = async () => false): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      this.wakeUp = new AbortController();
      try {
        await pass();
        if (await done()) break;
      } catch (error) {
        this.onError(error);
      }
      if (!this.woken) await this.clock.sleep(this.pollMs, this.wakeUp.signal);
    }
  }

  stop(): void {
    this.stopping = true;
    this.wake();
  }
}

/** The default report of a failed pass: one line on stderr, naming the process. */
export function reportOnStderr(kind: string): (error: unknown) => void {
  return (error) => console.error(`medallion ${kind}: ${describeError(error)}`);
}
