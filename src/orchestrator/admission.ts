import { describeError } from '../core/errors.js';
import type { RunRecord } from '../metadata/metadata-store.js';

/**
 * Whether this process may execute a run's tasks: the verdict of `check` (a reason when it may not), kept per run.
 * A refusal is reported once per reason and looked at again after `recheckMs` (a connection may be added, a
 * process restarted with the right definition); an admission holds for the run's life.
 */
export class RunAdmission {
  private readonly verdicts = new Map<string, { reason: string | undefined; at: number }>();

  constructor(
    private readonly check: (run: RunRecord) => Promise<string | undefined>,
    private readonly report: (run: RunRecord, reason: string) => void,
    private readonly recheckMs = 30_000,
  ) {}

  async admits(run: RunRecord, now: Date): Promise<boolean> {
    const known = this.verdicts.get(run.id);
    if (known && (known.reason === undefined || now.getTime() - known.at < this.recheckMs)) {
      return known.reason === undefined;
    }
    let reason: string | undefined;
    try {
      reason = await this.check(run);
    } catch (error) {
      reason = describeError(error);
    }
    if (reason !== undefined && reason !== known?.reason) this.report(run, reason);
    this.verdicts.set(run.id, { reason, at: now.getTime() });
    return reason === undefined;
  }

  forget(runId: string): void {
    this.verdicts.delete(runId);
  }
}
