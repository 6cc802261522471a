import { describeError, isPermanent, MedallionError, RunStoppedError } from '../core/errors.js';
import type { ParamValue } from '../core/pipeline.js';
import { nextTryAt } from '../core/retry-policy.js';
import type { AttemptMetrics, AttemptResult, MetadataStore } from '../metadata/metadata-store.js';
import type { ProgressListener } from '../core/progress.js';
import type { Clock } from './clock.js';
import type { TaskJob, TaskReport, TaskRunner } from './task-runner.js';

export interface AttemptDeps {
  store: MetadataStore;
  runner: TaskRunner;
  clock: Clock;
  /** How often a running try records that it is alive (and flushes its log). */
  heartbeatMs: number;
  progress?: ProgressListener;
  /** Aborts the try (the process is stopping, or its run is stopped from here). */
  shutdown?: AbortSignal;
  /** The run's lake: skip-unchanged compares with the task's last success on that lake. */
  lake?: string | undefined;
  /**
   * How long the try keeps trying to record its end while the store is unreachable (a database restart): past
   * that, schedulers have failed it for its silent heartbeat and the record would be refused anyway.
   */
  persistForMs?: number;
}

export type AttemptStatus =
  'success' | 'skipped' | 'failed' | 'up_for_retry' | 'cancelled' | 'queued' | 'lost';

class TimeoutError extends Error {}

/** Why a try was stopped by its process draining: the task is queued again for another, its retries untouched. */
export class HandedBackError extends Error {
  override readonly name = 'HandedBackError';
}

/**
 * Runs one claimed try of a task to its end: skip when its inputs are unchanged, heartbeats, timeout, log lines
 * kept in the store, metrics, then the task instance's next state (success, skipped, up for retry, failed).
 * Returns 'lost' when the try had meanwhile been failed as stale by a scheduler: the store decides, not us.
 */
export async function runAttempt(job: TaskJob, deps: AttemptDeps): Promise<AttemptStatus> {
  const { store, clock } = deps;
  const { run, task, attempt } = job;
  const startedAt = clock.now();
  const cpuBefore = process.cpuUsage();
  const controller = new AbortController();
  const abortOnShutdown = (): void =>
    controller.abort(deps.shutdown?.reason ?? new Error('the process is stopping'));
  deps.shutdown?.addEventListener('abort', abortOnShutdown, { once: true });
  const log = new LogBuffer(store, job);
  const stopHeartbeat = startHeartbeat(job, deps, log, controller);
  deps.progress?.({ type: 'task-started', task: task.id });
  log.add(`try ${attempt.attempt} of ${task.id} started on ${attempt.worker}`);

  let status: 'success' | 'skipped' | 'failed';
  let report: TaskReport | undefined;
  let reason: string | undefined;
  let fingerprint: string | undefined;
  let permanent = false;
  let stoppedAs: RunStoppedError['stop'] | undefined;
  let handedBack = false;
  let failureData: unknown;
  try {
    fingerprint = await deps.runner.fingerprint(job);
    const unchanged =
      fingerprint !== undefined &&
      !run.force &&
      fingerprint === (await store.lastSuccessFingerprint(run.pipeline, task.id, deps.lake));
    if (unchanged) {
      status = 'skipped';
      report = await deps.runner.describeSkipped(job);
    } else {
      report = await withTimeout(
        deps.runner.run(job, {
          signal: controller.signal,
          log: (message) => log.add(message),
          // Checked against the pipeline's declarations when the run was created.
          params: run.params as Record<string, ParamValue>,
        }),
        task.timeoutMs,
        deps.clock,
        controller,
      );
      status = 'success';
      // What the inputs look like now that the task wrote its output: equal next time → nothing to do.
      if (fingerprint !== undefined) fingerprint = await deps.runner.fingerprint(job);
    }
  } catch (error) {
    status = 'failed';
    const cause: unknown = controller.signal.aborted ? controller.signal.reason : error;
    permanent = isPermanent(cause);
    if (cause instanceof RunStoppedError) stoppedAs = cause.stop;
    handedBack = cause instanceof HandedBackError;
    if (error instanceof MedallionError && error.data !== undefined) failureData = error.data;
    reason = error instanceof TimeoutError ? error.message : describeError(cause);
    if (handedBack) reason = `handed back: ${reason}`;
  } finally {
    stopHeartbeat();
    deps.shutdown?.removeEventListener('abort', abortOnShutdown);
  }

  const finishedAt = clock.now();
  const durationMs = finishedAt.getTime() - startedAt.getTime();
  log.add(
    status === 'failed'
      ? `failed after ${durationMs} ms: ${reason}`
      : `${status} in ${durationMs} ms: ${report?.detail}`,
  );
  const persist = <T>(write: () => Promise<T>): Promise<T> =>
    untilStored(write, clock, deps.persistForMs ?? 0);
  await persist(() => log.flush());
  // The task's next state is written with the attempt's end, in one transaction (see AttemptResult.task).
  let next: Exclude<AttemptStatus, 'lost'> = status;
  let nextTry: Date | undefined;
  let maxTries: number | undefined;
  if (stoppedAs === 'cancelled') next = 'cancelled';
  else if (status === 'failed') {
    const instance = await persist(() => store.getTaskInstance(run.id, task.id));
    if (handedBack && instance) {
      next = 'queued';
      maxTries = instance.maxTries + 1;
    } else {
      nextTry = permanent
        ? undefined
        : nextTryAt(task.retry, attempt.attempt, finishedAt, instance?.maxTries);
      next = nextTry ? 'up_for_retry' : 'failed';
    }
  }
  const result: AttemptResult = {
    state: status === 'failed' ? 'failed' : 'success',
    ...(reason !== undefined && { reason }),
    ...(status === 'skipped' && { reason: 'skipped: inputs unchanged' }),
    metrics: metrics(durationMs, cpuBefore, report),
    ...(report !== undefined && { output: report }),
    ...(failureData !== undefined && { output: { detail: reason, data: failureData } }),
    finishedAt: finishedAt.toISOString(),
    task:
      status === 'failed'
        ? { state: next, nextTryAt: nextTry?.toISOString() ?? null, ...(maxTries && { maxTries }) }
        : { state: next, fingerprint: fingerprint ?? null, nextTryAt: null },
  };
  // A retried write whose first reply was lost finds the attempt ended already: false, and nothing twice.
  const finished = await persist(() => store.finishAttempt(run.id, task.id, attempt.attempt, result));
  if (!finished) return 'lost';
  deps.progress?.({
    type: 'task-finished',
    task: task.id,
    status,
    durationMs,
    detail: status === 'failed' ? (reason ?? '') : (report?.detail ?? ''),
  });
  return next;
}

/** Retries a write of the try's end while the store fails, with backoff, for up to `forMs`. */
async function untilStored<T>(write: () => Promise<T>, clock: Clock, forMs: number): Promise<T> {
  const deadline = clock.now().getTime() + forMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await write();
    } catch (error) {
      if (clock.now().getTime() + delay > deadline) throw error;
      await clock.sleep(delay);
    }
  }
}

function metrics(
  durationMs: number,
  cpuBefore: NodeJS.CpuUsage,
  report: TaskReport | undefined,
): AttemptMetrics {
  const cpu = process.cpuUsage(cpuBefore);
  return {
    durationMs,
    // Process-wide figures: exact when the try ran alone, an upper bound beside others.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    ...(report?.rowsIn !== undefined && { rowsIn: report.rowsIn }),
    ...(report?.rowsOut !== undefined && { rowsOut: report.rowsOut }),
    ...(report?.rowsQuarantined !== undefined && { rowsQuarantined: report.rowsQuarantined }),
    ...(report?.bytesRead !== undefined && { bytesRead: report.bytesRead }),
    ...(report?.bytesWritten !== undefined && { bytesWritten: report.bytesWritten }),
  };
}

async function withTimeout<T>(
  work: Promise<T>,
  timeoutMs: number | undefined,
  clock: Clock,
  controller: AbortController,
): Promise<T> {
  if (timeoutMs === undefined) return work;
  const stopTimer = new AbortController();
  const timeout = clock.sleep(timeoutMs, stopTimer.signal).then(() => {
    if (stopTimer.signal.aborted) return new Promise<never>(() => {});
    const error = new TimeoutError(`timed out after ${timeoutMs / 1000} s`);
    controller.abort(error);
    throw error;
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    stopTimer.abort();
  }
}

function startHeartbeat(
  job: TaskJob,
  deps: AttemptDeps,
  log: LogBuffer,
  controller: AbortController,
): () => void {
  const stop = new AbortController();
  void (async () => {
    while (!stop.signal.aborted) {
      await deps.clock.sleep(deps.heartbeatMs, stop.signal);
      if (stop.signal.aborted) return;
      try {
        const answer = await deps.store.heartbeat(
          job.run.id,
          job.task.id,
          job.attempt.attempt,
          deps.clock.now().toISOString(),
        );
        await log.flush();
        if (answer === 'ended') {
          controller.abort(new Error('the try was failed elsewhere (its heartbeat had stopped)'));
        } else if (answer === 'stopping') {
          const stop = (await deps.store.getRun(job.run.id))?.stop;
          controller.abort(
            new RunStoppedError(stop?.state ?? 'failed', stop?.reason ?? 'the run was stopped'),
          );
        }
      } catch {
        // A missed heartbeat is retried at the next beat; the scheduler tolerates several.
      }
    }
  })();
  return () => stop.abort();
}

/**
 * Log lines held in memory and written to the store at each heartbeat and at the end. The try is its log's only
 * writer, so it numbers the lines itself: each write is one INSERT.
 */
class LogBuffer {
  private lines: string[] = [];
  private nextLine = 1;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: MetadataStore,
    private readonly job: TaskJob,
  ) {}

  add(message: string): void {
    this.lines.push(`${new Date().toISOString()} ${message}`);
  }

  /** Writes the lines held so far, after the previous write; lines a failed write could not store are kept. */
  flush(): Promise<void> {
    const { run, task, attempt } = this.job;
    const write = this.writing.then(async () => {
      const lines = this.lines;
      this.lines = [];
      if (lines.length === 0) return;
      try {
        await this.store.appendLog(run.id, task.id, attempt.attempt, lines, this.nextLine);
        this.nextLine += lines.length;
      } catch (error) {
        this.lines = [...lines, ...this.lines];
        throw error;
      }
    });
    this.writing = write.catch(() => undefined);
    return write;
  }
}
